#include "ppool/cli.hpp"

#include <malloc.h>

int main(int argc, char** argv) {
    // Results pass through buffers of tens of kilobytes, made and freed by the
    // thousand: without these, malloc gives the top of the heap back to the
    // kernel and takes it again over and over, and page faults cost more than
    // the work (4500 against 1000 for a million `len` items).
    mallopt(M_TRIM_THRESHOLD, 32 << 20);
    mallopt(M_TOP_PAD, 4 << 20);
    return ppool::cli::run(argc, argv);
}
