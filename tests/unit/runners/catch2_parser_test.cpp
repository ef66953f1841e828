// The Catch2 reader on real output of Debian 12's Catch2 2.13.10 (tests/fixtures/runners/README.md
// has the program and the commands): its XML and console reporters, --benchmark-no-analysis, a
// failed test case; and malformed, non-finite and empty input, each error naming its byte and the
// element, field or line.
#include "runners/parsers/parsers.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/runners/parse_result.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <utility>

namespace abtool::runners::parsers {
namespace {

std::string fixture(const std::string& name) {
    return abtool::testing::read_file(std::string(ABTOOL_FIXTURES_DIR) + "/runners/" + name);
}

// (case, metric) -> value; every pair appears once in these outputs.
std::map<std::pair<std::string, std::string>, double> values(const Parsed& result) {
    std::map<std::pair<std::string, std::string>, double> out;
    for (const Sample& sample : result.samples) {
        EXPECT_EQ(sample.unit, "ns");
        EXPECT_EQ(sample.direction, Direction::lower);
        EXPECT_TRUE(out.emplace(std::pair(sample.case_name, sample.metric), sample.value).second)
            << sample.case_name << " " << sample.metric;
    }
    return out;
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    const std::size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

const std::string k_wrapped = "a rather long benchmark name that the console wraps";

TEST(Catch2Parser, Xml_MeanAndStdDevPerBenchmark_NamedByTestCaseAndBenchmark) {
    const Parsed result = parsed(parse_catch2(fixture("catch2_v2.xml")));
    const auto got = values(result);
    EXPECT_EQ(got.size(), 10u); // five benchmarks, each a mean and a standard deviation
    EXPECT_DOUBLE_EQ(got.at({"Fibonacci/fib 15", "mean"}), 2595.09);
    EXPECT_DOUBLE_EQ(got.at({"Fibonacci/fib 15", "std_dev"}), 15.6718);
    EXPECT_DOUBLE_EQ(got.at({"Fibonacci/fib 20", "mean"}), 29874.8);
    // Two test cases each have a "fib 15": the test case keeps them apart. Entities decoded.
    EXPECT_DOUBLE_EQ(got.at({"Fibonacci & friends <again>/fib 15", "mean"}), 2585.17);
    EXPECT_DOUBLE_EQ(got.at({"Fibonacci & friends <again>/" + k_wrapped, "mean"}), 254.757);
    EXPECT_DOUBLE_EQ(got.at({"Failing check/fib 5", "std_dev"}), 0.0305335);
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_EQ(result.errors[0], "Failing check: REQUIRE failed at bench.cpp:19");
}

TEST(Catch2Parser, Console_DurationsInUnitsBecomeNs_SameCasesAsXml) {
    const Parsed result = parsed(parse_catch2(fixture("catch2_v2_console.txt")));
    const auto got = values(result);
    EXPECT_DOUBLE_EQ(got.at({"Fibonacci/fib 15", "mean"}), 2776.59); // "2.77659 us"
    EXPECT_DOUBLE_EQ(got.at({"Fibonacci/fib 15", "std_dev"}), 649.424);
    EXPECT_DOUBLE_EQ(got.at({"Fibonacci/fib 20", "mean"}), 27592.8);
    // The name the console wrapped onto two rows, joined as the XML spells it.
    EXPECT_DOUBLE_EQ(got.at({"Fibonacci & friends <again>/" + k_wrapped, "mean"}), 230.029);
    std::set<std::pair<std::string, std::string>> console, xml;
    for (const auto& [key, value] : got) {
        console.insert(key);
    }
    for (const auto& [key, value] : values(parsed(parse_catch2(fixture("catch2_v2.xml"))))) {
        xml.insert(key);
    }
    EXPECT_EQ(console, xml);
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_EQ(result.errors[0], "Failing check: bench.cpp:19: FAILED:");
}

TEST(Catch2Parser, ConsoleNoAnalysis_LastColumnIsTheMean) {
    const auto got = values(parsed(parse_catch2(fixture("catch2_v2_no_analysis.txt"))));
    EXPECT_EQ(got.size(), 4u); // four benchmarks of the [bench] test cases, no std dev
    EXPECT_DOUBLE_EQ(got.at({"Fibonacci/fib 15", "mean"}), 2629.5);   // "2.6295 us"
    EXPECT_DOUBLE_EQ(got.at({"Fibonacci/fib 20", "mean"}), 632569.0); // "632.569 us"
}

TEST(Catch2Parser, ConsoleUnits_MillisecondsSecondsAndMinutes) {
    const std::string text = fixture("catch2_v2_console.txt");
    for (const auto& [unit, ns] : std::map<std::string, double>{{"ns", 2.77659},
                                                                {"us", 2776.59},
                                                                {"ms", 2776590.0},
                                                                {"s", 2776590000.0},
                                                                {"m", 166595400000.0},
                                                                {"\xC2\xB5s", 2776.59}}) {
        const auto got =
            values(parsed(parse_catch2(replaced(text, "2.77659 us", "2.77659 " + unit))));
        EXPECT_DOUBLE_EQ(got.at({"Fibonacci/fib 15", "mean"}), ns) << unit;
    }
}

TEST(Catch2Parser, NaNAndInfinity_GiveNoSample) {
    const std::string xml = fixture("catch2_v2.xml");
    const auto got = values(
        parsed(parse_catch2(replaced(replaced(xml, "mean value=\"2595.09\"", "mean value=\"nan\""),
                                     "mean value=\"29874.8\"", "mean value=\"inf\""))));
    EXPECT_EQ(got.count({"Fibonacci/fib 15", "mean"}), 0u);
    EXPECT_EQ(got.count({"Fibonacci/fib 20", "mean"}), 0u);
    EXPECT_EQ(got.count({"Fibonacci/fib 15", "std_dev"}), 1u);
    const auto console = values(
        parsed(parse_catch2(replaced(fixture("catch2_v2_console.txt"), "2.77659 us", "-nan m"))));
    EXPECT_EQ(console.count({"Fibonacci/fib 15", "mean"}), 0u);
    EXPECT_EQ(console.count({"Fibonacci/fib 15", "std_dev"}), 1u);
}

TEST(Catch2Parser, EmptyOutputAndEmptyRun_NoSamples) {
    EXPECT_TRUE(parsed(parse_catch2(std::string())).samples.empty());
    EXPECT_TRUE(parsed(parse_catch2("<?xml version=\"1.0\"?>\n<Catch2TestRun name=\"x\"/>\n"))
                    .samples.empty());
}

TEST(Catch2Parser, TruncatedXml_NamesTheEnd) {
    const std::string xml = fixture("catch2_v2.xml");
    const std::string cut = xml.substr(0, xml.find("<OverallResult success=\"true\"/>"));
    const ParseError error = error_of(parse_catch2(cut));
    EXPECT_EQ(error.offset, cut.size());
    EXPECT_NE(error.message.find("ends inside <TestCase>"), std::string::npos) << error.message;
}

TEST(Catch2Parser, MalformedXml_NamesTheByte) {
    const std::string xml = fixture("catch2_v2.xml");
    const std::string mismatched = replaced(xml, "</BenchmarkResults>", "</Benchmark>");
    EXPECT_EQ(error_of(parse_catch2(mismatched)).offset, mismatched.find("</Benchmark>"));
    const std::string entity = replaced(xml, "&amp;", "&ampere;");
    const ParseError bad_entity = error_of(parse_catch2(entity));
    EXPECT_EQ(bad_entity.offset, entity.find("&ampere;"));
    EXPECT_NE(bad_entity.message.find("attribute name in <TestCase>"), std::string::npos)
        << bad_entity.message;
    const std::string unquoted = replaced(xml, "samples=\"10\"", "samples=10");
    EXPECT_EQ(error_of(parse_catch2(unquoted)).offset, unquoted.find("10 resamples"));
}

TEST(Catch2Parser, XmlOfTheWrongShape_NamesTheElementAndField) {
    const std::string xml = fixture("catch2_v2.xml");
    const std::string text = replaced(xml, "mean value=\"2595.09\"", "mean value=\"fast\"");
    const ParseError error = error_of(parse_catch2(text));
    EXPECT_EQ(error.field, "BenchmarkResults[name=fib 15].mean.value");
    EXPECT_EQ(error.offset, text.find("<mean value=\"fast\""));
    EXPECT_NE(error.message.find("\"fast\""), std::string::npos) << error.message;
    const ParseError missing =
        error_of(parse_catch2(replaced(xml, "<standardDeviation value=", "<standardDeviation v=")));
    EXPECT_EQ(missing.field, "BenchmarkResults[name=fib 15].standardDeviation.value");
    const ParseError root = error_of(parse_catch2("<?xml version=\"1.0\"?><testsuites/>"));
    EXPECT_EQ(root.field, "testsuites");
}

TEST(Catch2Parser, MalformedConsoleRow_NamesTheLine) {
    const std::string text =
        replaced(fixture("catch2_v2_console.txt"), "27.5928 us    27.5265 us     27.679 us",
                 "27.5928 us    27.5265 parsecs 27.679 us");
    const ParseError error = error_of(parse_catch2(text));
    const std::size_t line_start = text.rfind('\n', text.find("parsecs")) + 1;
    EXPECT_EQ(error.offset, line_start);
    EXPECT_EQ(error.field, "line 21");
    EXPECT_NE(error.message.find("Fibonacci/fib 20"), std::string::npos) << error.message;
}

} // namespace
} // namespace abtool::runners::parsers
