#include "os/dynlib.hpp"

#include <dlfcn.h>
#include <stdexcept>

namespace ppool::os {

SharedLibrary SharedLibrary::open(const std::string& path) {
    // dlopen searches the library path for a bare name: a plugin is a file.
    std::string file = path.find('/') == std::string::npos ? "./" + path : path;
    void* handle = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char* why = ::dlerror();
        throw std::runtime_error(why ? why : "cannot load " + path);
    }
    SharedLibrary lib;
    lib.m_handle = handle;
    return lib;
}

void* SharedLibrary::symbol(const char* name) const { return ::dlsym(m_handle, name); }

}  // namespace ppool::os
