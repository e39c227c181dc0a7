#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "worker/launcher.hpp"

namespace ppool::remote {

/// A node of the Slurm allocation ppool runs in, and the CPUs the job holds on it.
struct SlurmNode {
    std::string name;
    std::size_t cpus = 1;
    bool operator==(const SlurmNode&) const = default;
};

/// SLURM_JOB_CPUS_PER_NODE ("4(x2),2") as one count per node, in node order;
/// throws UsageError when it is malformed.
std::vector<std::size_t> parse_cpus_per_node(std::string_view text);

/// The nodes of the allocation this process runs in, from its environment
/// (SLURM_JOB_ID, SLURM_JOB_NODELIST expanded by `scontrol show hostnames`,
/// SLURM_JOB_CPUS_PER_NODE). Throws UsageError outside an allocation, or
/// when the allocation cannot be read.
std::vector<SlurmNode> slurm_allocation();

class HubLink;

/// Starts workers on one node of the allocation: the first start runs one
/// `srun -N1 -n1 --exact --unbuffered ... ppool worker --hub` step on it, and
/// every worker of the node is one of that hub's, over the step's stdin and
/// stdout. A step that ended (the node lost) is started again at the next start.
class SlurmLauncher final : public worker::Launcher {
public:
    /// `ppool`: the program the node runs (by default this one, at the same path).
    SlurmLauncher(SlurmNode node, std::string ppool);
    ~SlurmLauncher() override;

    worker::LaunchedWorker launch() override;
    const std::string& name() const override { return m_name; }
    /// The node's name, as Slurm gives it.
    const std::string& host() const override { return m_node.name; }
    bool runs_a_command() const override { return true; }
    /// The step's end of each worker's channel, held by this process too.
    std::size_t extra_descriptors() const override { return 2; }

private:
    SlurmNode m_node;
    std::vector<std::string> m_argv;
    std::string m_name;
    std::shared_ptr<HubLink> m_link;
};

}  // namespace ppool::remote
