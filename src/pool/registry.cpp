#include "ppool/errors.hpp"
#include "ppool/task.hpp"

#include "pool/builtins.hpp"
#include "worker/command_template.hpp"

#include <algorithm>
#include <memory>

namespace ppool {

TaskRegistry& TaskRegistry::global() {
    static TaskRegistry registry;
    return registry;
}

TaskRegistry::TaskRegistry() { detail::register_builtins(*this); }

void TaskRegistry::insert(TaskInfo info) {
    if (info.name.empty()) throw UsageError("a task needs a name");
    if (find(info.name)) throw UsageError("task '" + info.name + "' is registered twice");
    m_tasks.push_back(std::move(info));
}

void TaskRegistry::add(std::string name, std::string description, TaskFunction function) {
    insert(TaskInfo{std::move(name), std::move(description), std::move(function), {}, false, {}});
}

void TaskRegistry::add_command(std::string name, std::string description, CommandBuilder builder,
                               bool item_on_stdin) {
    insert(TaskInfo{std::move(name), std::move(description), {}, std::move(builder), item_on_stdin, {}});
}

void TaskRegistry::add_command(std::string name, std::string description, CommandLine line) {
    auto command = std::make_shared<const worker::CommandTemplate>(line);
    TaskInfo info{std::move(name), std::move(description), {},
                  [command](const TaskContext& c) { return command->build(c); }, line.item_on_stdin, std::move(line)};
    insert(std::move(info));
}

void TaskRegistry::add_static(const char* name, const char* description, TaskFunction function) {
    try {
        add(name, description, std::move(function));
    } catch (const UsageError& e) {
        m_errors.push_back(e.what());
    }
}

const TaskInfo* TaskRegistry::find(std::string_view name) const {
    for (const auto& task : m_tasks)
        if (task.name == name) return &task;
    return nullptr;
}

std::vector<const TaskInfo*> TaskRegistry::list() const {
    std::vector<const TaskInfo*> out;
    for (const auto& task : m_tasks) out.push_back(&task);
    std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->name < b->name; });
    return out;
}

}  // namespace ppool
