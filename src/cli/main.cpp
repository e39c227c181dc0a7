#include "ppool/cli.hpp"

int main(int argc, char** argv) { return ppool::cli::run(argc, argv); }
