# A Debian package of the install tree: `cpack -G DEB` in the build directory.
# One package holds the command, its man page and completions, and the
# library with its headers and CMake config (the static library is small).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ppool)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "ppool developers <dev@ppool.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "process pool for the command line and for C++ programs")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "ppool runs shell commands or registered C++ tasks over items read from
standard input or files in a pool of forked worker processes, and streams
the results back in order or as they finish, as text or JSON Lines. Modes
follow Python's multiprocessing.Pool: map, imap, imap-unordered, apply.
.
This package also holds the C++ library (static), its headers and a CMake
package config: find_package(ppool) and link ppool::ppool.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Programs built against the library need libcrypto's static archive, and
# nlohmann/json's headers (the typed tasks' codec).
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "libssl-dev, nlohmann-json3-dev, libcsv-dev, cmake")
# Stripped as Debian's dh_strip does: the program of its symbols, the static
# libraries of their debugging information only (they are 20 times smaller).
set(CPACK_STRIP_FILES TRUE)
set(CPACK_PRE_BUILD_SCRIPTS ${CMAKE_CURRENT_LIST_DIR}/strip_static_libraries.cmake)
set(CPACK_PPOOL_STRIP ${CMAKE_STRIP})
# Directories as a package wants them, whatever the umask of the build.
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
  OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

# Depends: computed from the binary by dpkg-shlibdeps (dpkg-dev), else the
# libraries any C++20 build on Debian 12 links.
find_program(PPOOL_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(PPOOL_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6 (>= 2.34), libgcc-s1 (>= 3.0), libstdc++6 (>= 12)")
endif()

include(CPack)
