#pragma once

#include <string>

namespace ppool::os {

/// A loaded shared library; stays loaded for the life of the process (its
/// code backs registered tasks that workers run after fork).
class SharedLibrary {
public:
    /// Loads `path` with every symbol resolved now; throws std::runtime_error
    /// with dlerror()'s message.
    static SharedLibrary open(const std::string& path);
    /// The address of an exported symbol, or nullptr.
    void* symbol(const char* name) const;
    /// Identifies the library: the same file loaded twice has the same handle.
    const void* handle() const { return m_handle; }

private:
    void* m_handle = nullptr;
};

}  // namespace ppool::os
