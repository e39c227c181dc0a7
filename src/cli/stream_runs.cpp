// The fast path of the streaming modes: a run of successful results goes
// from the worker's buffer to stdout without a TaskResult per item.
#include "cli/stream_runs.hpp"

#include <variant>

namespace ppool::cli {

bool runs_wanted(const Options& o) { return !o.tag; }

int stream_runs(ResultIterator& results, Sink& sink) {
    bool failed = false;
    for (;;) {
        if (!results.has_ready()) sink.flush();
        auto batch = results.next_batch();
        if (!batch) break;
        if (auto* run = std::get_if<ResultRun>(&*batch)) {
            sink.write_run(*run);
            continue;
        }
        const auto& r = std::get<TaskResult>(*batch);
        sink.write(r);
        failed = failed || !r.ok();
    }
    sink.finish();
    return failed ? 1 : 0;
}

void write_run_text(OutputBuffer& out, ResultRun& run) {
    auto text = run.text();
    if (out.data().empty() && text.size() >= OutputBuffer::k_limit) {
        // A large run goes out as it is, with no copy.
        out.write_through(text);
    } else {
        out.data() += text;
        out.maybe_flush();
    }
    run.clear();
}

}  // namespace ppool::cli
