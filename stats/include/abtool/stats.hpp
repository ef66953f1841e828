// stats: the numbers behind every verdict. Pure functions over plain vectors (Eigen inside):
// descriptives, paired log-ratio analysis with bootstrap and Wilcoxon intervals, rank tests,
// multiple-comparison control, planning from A/A runs and DESIGN.md's verdict rules.
// No I/O, no printing; same inputs and seed, same outputs.
#pragma once

#include "abtool/direction.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace abtool::stats {

using abtool::Direction; // which way is better (common/include/abtool/direction.hpp)
enum class Verdict { regressed, improved, unchanged, inconclusive };
enum class IntervalMethod {
    bca_bootstrap,
    percentile_bootstrap,
    wilcoxon_exact,
    wilcoxon_normal,
    // The two-sample (Mann-Whitney) interval of the crossover analysis: a position effect removed
    // (compare_paired).
    crossover_exact,
    crossover_normal,
    none
};
enum class Multiplicity { holm, benjamini_hochberg, none };
enum class Order { ab, ba }; // which ref ran first in a round

std::string to_string(Verdict verdict);
std::string to_string(IntervalMethod method);

struct Descriptives {
    std::size_t n = 0;
    double min = 0, max = 0, mean = 0, median = 0, stddev = 0, cv_pct = 0, mad = 0;
    double p50 = 0, p95 = 0, p99 = 0;
    // Indices flagged (never dropped): modified z-score |x - median| / (MAD / 0.6745) > 3.5, with
    // 1.2533 x the mean absolute deviation in place of MAD / 0.6745 when MAD is 0 (Iglewicz and
    // Hoaglin 1993; descriptive.cpp).
    std::vector<std::size_t> outliers;
};
// A series holding NaN gets its n and nothing else (no number made up from it).
Descriptives describe(std::span<const double> values);
// The median (mean of the two middle values for even n; NaN when empty): one definition for all
// of abtool, e.g. a run that reports several repetitions contributes their median.
double median(std::span<const double> values);

struct Options {
    double threshold = 0.02;  // smallest change that counts, as a fraction (0.02 = 2%)
    double confidence = 0.95; // 1 - the false-alarm level of one comparison
    // Bootstrap resamples (>= 10,000 for verdicts). The paired verdict uses the Wilcoxon
    // interval and only reports the bootstrap one: 0 skips it there (simulations do).
    int resamples = 10000;
    std::uint64_t seed = 1; // bootstrap generator seed
    Multiplicity multiplicity = Multiplicity::holm;
    int looks = 1; // adaptive rounds: this analysis is one of `looks` planned looks at the
                   // data; alpha is split evenly across them (Bonferroni over looks, verdict.cpp;
                   // see planned_looks below)
};

struct PairedInput {
    std::vector<double> a, b; // a[k], b[k]: the values of round k
    std::vector<Order> order; // order[k]: which ran first in round k (may be empty)
    // The two positions the schedule balances across rounds, one of which can shift a round's
    // delta by itself: in a duet of one run per side, which CPU B ran on; run in sequence,
    // whether B ran second. balance[k] is B's in round k (may be empty); `balance_name` names
    // the factor in messages ("CPU", "order").
    std::vector<bool> balance;
    std::string balance_name = "order";
    Direction direction = Direction::lower;
    // This case's threshold, as a fraction, in place of Options::threshold for its verdict and
    // warnings (compare_paired and compare_paired_all): a deterministic counter (instructions)
    // is gated at 0.05% while wall times in the same run keep 2%. The multiplicity correction
    // is the run's either way: every gated case counts once, whatever its threshold.
    std::optional<double> threshold;
};

struct Comparison {
    std::size_t n = 0;
    Descriptives a, b;
    std::vector<double> log_ratios; // d_k = ln(b_k / a_k)
    double delta_pct = 0;           // e^median(d) - 1, in %
    double hl_delta_pct = 0;        // Hodges-Lehmann estimate, in %
    double ci_low_pct = 0, ci_high_pct = 0;
    IntervalMethod interval = IntervalMethod::none; // the interval the verdict used
    // The BCa bootstrap interval of the median of d, reported beside the verdict's interval
    // (percentile when BCa is undefined: bootstrap_is_bca false).
    double bootstrap_low_pct = 0, bootstrap_high_pct = 0;
    bool bootstrap_is_bca = false;
    double p_value = 1;    // Wilcoxon signed-rank on d
    double p_adjusted = 1; // after multiplicity control across the run's cases
    Verdict verdict = Verdict::inconclusive;
    std::string reason; // why this verdict, in one line
    std::vector<std::string>
        warnings; // order effect, trend, outliers, high CV; each with its figure
};

// One case. p_adjusted == p_value.
Comparison compare_paired(const PairedInput& input, const Options& options);
// All cases of one run, with options.multiplicity applied across them.
std::vector<Comparison> compare_paired_all(std::span<const PairedInput> inputs,
                                           const Options& options);
// Without pairs (stored baselines against a later run): Mann-Whitney U (exact for small samples
// without ties), the two-sample Hodges-Lehmann shift of the logs (hl_delta_pct) and a BCa
// bootstrap interval of the ratio of medians, which the verdict uses.
Comparison compare_unpaired(std::span<const double> a, std::span<const double> b,
                            Direction direction, const Options& options);
struct UnpairedInput {
    std::vector<double> a, b;
    Direction direction = Direction::lower;
    std::optional<double> threshold; // as PairedInput::threshold, for compare_unpaired_all
};
// All cases of one post-mortem comparison, with options.multiplicity applied across them.
std::vector<Comparison> compare_unpaired_all(std::span<const UnpairedInput> inputs,
                                             const Options& options);

// From an A/A series of log-ratios: the noise floor and the rounds a threshold needs, for the
// verdict's test (Wilcoxon signed-rank / Hodges-Lehmann, whose efficiency against the mean is
// 3/pi for normal noise: standard error sqrt(pi/3) sigma_d / sqrt(n)).
struct NoiseFloor {
    std::size_t n = 0;
    // false when the series cannot say: fewer than 3 rounds, or no spread at all (sigma_d == 0,
    // e.g. a deterministic metric); the figures below are then 0 and mean nothing.
    bool estimable = false;
    double sigma_d = 0;            // spread of d (robust), as a fraction
    double noise_pct = 0;          // half-width of the interval at n rounds, in %
    double detectable_pct = 0;     // smallest change n rounds detect with `power`
    std::size_t rounds_needed = 0; // rounds to detect options.threshold with `power`
};
NoiseFloor noise_floor(std::span<const double> log_ratios, const Options& options,
                       double power = 0.8);

// Adaptive rounds: after each A/B/B/A block, whether to stop. `looks` in Options must be
// planned_looks(policy) for every analysis of an adaptive run, including the final one.
struct AdaptivePolicy {
    std::size_t min_rounds = 20;
    std::size_t max_rounds = 20;
};
int planned_looks(const AdaptivePolicy& policy);
bool should_stop(std::span<const Comparison> current, std::size_t rounds_done,
                 const AdaptivePolicy& policy);

// ---- trends -------------------------------------------------------------------------------

// The Theil-Sen slope of y against x: the median of the pairwise slopes (y_j - y_i) / (x_j - x_i)
// over i < j with x_j != x_i (the mean of the two middle slopes for an even count), as
// scipy.stats.theilslopes returns for its slope. A soak run's memory trend uses it because it is
// robust to outliers (breakdown point 29%): a GC pause or a one-off spike does not fake a leak,
// where a least-squares slope would follow it. O(n^2) time and memory: an hour at 1 Hz (3600
// points) is 6.5 million slopes, about 52 MB. Throws std::invalid_argument when the sizes differ
// or x holds fewer than 2 distinct values; NaN when any value is not finite.
double theil_sen_slope(std::span<const double> x, std::span<const double> y);

// ---- planning a run's rounds and its design ------------------------------------------------

// The smallest two-sided p-value the exact Wilcoxon signed-rank test can give with n pairs:
// 2 / 2^n (every d_k on one side). No verdict can be significant below that, whatever the data.
double smallest_p_value(std::size_t n);
// The smallest even round count (whole A/B/B/A blocks) at which one changed metric among
// `gated` ones can reach significance: gated x smallest_p_value(n) < alpha per look (Holm and
// Benjamini-Hochberg both multiply the smallest of `gated` p-values by `gated`; `none` does not),
// with alpha per look as the verdict uses it (options.confidence, options.looks). At least 6.
std::size_t rounds_for_significance(std::size_t gated, const Options& options);

// How a round runs is a design (DESIGN.md "Rounds"): A then B, each side k times, or A and B at
// the same instant on their own CPUs (duet, Bulej et al., ICPE 2020). A pilot runs each candidate
// for a few rounds; these figures pick one.
struct DesignPilot {
    std::string name;             // "alternate", "alternate x3", "duet": for the reasons
    bool concurrent = false;      // A and B ran at once (duet): the two sides can interfere
    double seconds_per_round = 0; // wall time of one round under this design
    // Per gated series, the pilot rounds' log-ratios d_k = ln(B_k / A_k). Series i is the same
    // workload/case/metric in every design. Non-finite values are dropped.
    std::vector<std::vector<double>> log_ratios;
};
struct DesignAssessment {
    std::vector<double> sigma_d;  // per series: robust spread of d (1.4826 MAD), as a fraction
    std::vector<double> estimate; // per series: median of d
    // Machine seconds to reach a given interval width, up to a common factor: the worst series'
    // sigma_d^2 x seconds_per_round (an interval's width shrinks as sigma / sqrt(rounds)).
    double score = 0;
    bool eligible = false;
    std::string why_not; // one line, when not eligible
};
struct DesignChoice {
    std::size_t chosen = 0; // index into the designs; 0 (the reference) when nothing else can be
    bool fallback = false;  // the reference was taken for want of information, not on merit
    std::vector<DesignAssessment> assessments; // one per design
    std::string reason;                        // one line: why `chosen`
};
// designs[0] is the reference (plain alternate rounds): the fallback, and what a concurrent
// design is checked against. A design is eligible with >= 3 finite pilot log-ratios in every
// series. A concurrent design is not eligible when, for any series, it widens the spread
// (sigma_d above the reference's) or its estimate disagrees with the reference's by more than
// their combined uncertainty (z sqrt(se_a^2 + se_b^2), se = sqrt(pi/2) sigma_d / sqrt(n), z for 95%
// over all the series together, Bonferroni: 1.96 for one series, 2.24 for two): one
// side's memory traffic slowing the other shrinks the difference it measures. Among eligible
// designs the lowest score wins; ties go to the lower index.
DesignChoice choose_design(std::span<const DesignPilot> designs);

} // namespace abtool::stats
