// The parent's side of a packed chunk's run_result frames.
#include "protocol/packed.hpp"
#include "worker/process_worker_set.hpp"


namespace ppool::worker {

void ProcessWorkerSet::on_run_result(WorkerHandle& w, std::string_view payload, detail::WorkerEvents& out) {
    auto msg = protocol::decode_run_result(payload);
    if (msg.first_seq != w.running_seq()) throw protocol::ProtocolError("run result for items not running");
    char separator = w.chunk()->packed.separator;
    // Only a well-formed run takes its items off the chunk: a corrupt one leaves them to be reported lost.
    if (!ResultRun::consistent(msg.count, separator, w.run_inputs(msg.count, msg.input_bytes), msg.meta, msg.text))
        throw protocol::ProtocolError("a run result's parts do not match its count");
    detail::RunEvent event{w.chunk()->job, out.results.size(), {}};
    auto inputs = w.finish_run(msg.count, msg.input_bytes);
    event.run = ResultRun(msg.first_seq, msg.count, w.slot(), separator, std::move(inputs), std::string(msg.meta),
                          std::string(msg.text));
    out.runs.push_back(std::move(event));
    if (!w.has_chunk() && m_options.maxtasksperchild && w.tasks_done() >= m_options.maxtasksperchild) w.retire();
}

}  // namespace ppool::worker
