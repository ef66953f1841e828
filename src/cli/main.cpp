#include "src/cli/app.hpp"

int main(int argc, char** argv) {
    return abtool::run(argc, argv);
}
