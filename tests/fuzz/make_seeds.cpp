// Writes the binary seeds of corpus/fuzz_protocol with the real encoders, so
// the fuzzer starts from valid frames. Run by hand when the wire format changes:
//   cmake --build build-fuzz --target fuzz_make_seeds
//   build-fuzz/fuzz_make_seeds tests/fuzz/corpus/fuzz_protocol

#include "protocol/messages.hpp"
#include "protocol/session.hpp"

#include <cstdio>
#include <fstream>
#include <optional>
#include <string>

using namespace ppool::protocol;

namespace {

void write_seed(const std::string& dir, const char* name, const std::string& bytes) {
    std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
}

std::string run_frame(std::optional<std::uint64_t> timeout_ns = std::nullopt) {
    RunIndex index;
    index.add(1, 5);
    index.add(2, 0);
    index.add(3, 8);
    std::string items = std::string("alpha\n\nnul\0byte\n", 16);
    Gather gather;
    encode_run(gather, "upper", index, items, timeout_ns);
    std::string out;
    for (auto piece : gather.pieces) out.append(piece);
    return out;
}

std::string results_frame() {
    std::string meta;
    EntryMeta ok;
    ok.status = ppool::Status::ok;
    ok.duration_ns = 900;
    ok.output_size = 4;
    ok.added_newline = true;
    append_entry(meta, ok);
    EntryMeta failed;
    failed.status = ppool::Status::failed;
    failed.exit_code = 1;
    failed.duration_ns = 1500000;
    failed.output_size = 4;
    failed.stderr_size = 4;
    failed.error_size = 13;
    append_entry(meta, failed);
    std::string out;
    std::string durations;
    append_varint(durations, ok.duration_ns);
    append_varint(durations, failed.duration_ns);
    encode_results(out, ResultsMessage{2, 0, meta, durations, "one\nout\n", "err\nexit status 1"});
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: fuzz_make_seeds DIR\n");
        return 2;
    }
    std::string dir = argv[1];

    std::string ready, init_failed, output_part;
    encode_ready(ready);
    encode_output_part(output_part, OutputPart{7, Stream::err, "a piece of stderr\n"});
    encode_init_failed(init_failed, "no task named 'upper'");

    std::string configure, hello;
    ConfigureMessage settings;
    settings.slot = 3;
    settings.plugins = {"./libtasks.so"};
    settings.commands = {CommandTaskSpec{"cmd", {"echo", "{}"}, true, false},
                         CommandTaskSpec{"script", {"echo", "{}", ">", "out"}, true, false, false, false, "", "", true,
                                         "bash"}};
    settings.initializer = "load";
    settings.initargs = "table.csv";
    settings.initializer_command = "mkdir -p /tmp/w";
    settings.task_timeout_ns = 2'000'000'000;
    settings.kill_grace_ns = 2'000'000'000;
    settings.returns = {"{}.out", "{.}.gz"};
    settings.cleanup = true;
    settings.live_output = true;
    settings.shell = "/bin/bash";
    settings.environment = {"DB=x", "BASH_FUNC_f%%=() {  echo f\n}"};
    encode_configure(configure, settings);
    encode_hello(hello, HelloMessage{k_protocol_version, "node1", 4, {"identity", "len"}, ""});
    write_seed(dir, "configure", configure);
    write_seed(dir, "hello", hello);
    write_seed(dir, "run", run_frame());
    write_seed(dir, "run_limited", run_frame(1'500'000'000));
    std::string live;
    encode_live_output(live, OutputPart{2, Stream::out, "a line\n"});
    write_seed(dir, "live_output", live);
    write_seed(dir, "results", results_frame());
    write_seed(dir, "ready", ready);
    write_seed(dir, "init_failed", init_failed);
    write_seed(dir, "output_part", output_part);
    std::string file, file_failed;
    encode_file_part(file, FilePart{3, true, false, false, 0644, "dir/a.txt", "first part\n"});
    encode_file_part(file, FilePart{3, false, true, false, 0644, "dir/a.txt", "last part\n"});
    encode_file_part(file_failed, FilePart{4, true, true, true, 0, "b.out", "No such file or directory"});
    write_seed(dir, "file", file + file_failed);
    // Both directions of one item back to back: ready, a part, the results, a run.
    write_seed(dir, "stream", ready + output_part + results_frame() + run_frame());
    return 0;
}
