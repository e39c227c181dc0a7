# The library and its CMake package: an outside project does
#   find_package(ppool REQUIRED)
#   target_link_libraries(app PRIVATE ppool::ppool)   # or ppool::cli, ppool::headers
# Included from the top-level CMakeLists.txt once the targets exist.
include(CMakePackageConfigHelpers)

# Plugins need the headers only: they must not link a second copy of the pool.
add_library(ppool_headers INTERFACE)
target_include_directories(ppool_headers INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_features(ppool_headers INTERFACE cxx_std_20)
# A plugin may register typed tasks, whose codec is nlohmann/json.
target_link_libraries(ppool_headers INTERFACE nlohmann_json::nlohmann_json)
target_compile_features(ppool INTERFACE cxx_std_20)

# The names a consumer uses, the same inside this tree (examples/CMakeLists.txt).
set_target_properties(ppool_cli PROPERTIES EXPORT_NAME cli)
set_target_properties(ppool_headers PROPERTIES EXPORT_NAME headers)
add_library(ppool::ppool ALIAS ppool)
add_library(ppool::cli ALIAS ppool_cli)
add_library(ppool::headers ALIAS ppool_headers)

# A library built with the sanitizers needs their runtime wherever it is linked.
if(PPOOL_SANITIZE)
  target_link_options(ppool INTERFACE $<INSTALL_INTERFACE:-fsanitize=address,undefined>)
endif()

set(ppool_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/ppool)
install(TARGETS ppool ppool_cli ppool_headers EXPORT ppoolTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT ppoolTargets NAMESPACE ppool:: DESTINATION ${ppool_cmake_dir})

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/ppoolConfig.cmake.in
  ${PROJECT_BINARY_DIR}/ppoolConfig.cmake INSTALL_DESTINATION ${ppool_cmake_dir})
# Before 1.0 a minor release may break the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ppoolConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ppoolConfig.cmake ${PROJECT_BINARY_DIR}/ppoolConfigVersion.cmake
  DESTINATION ${ppool_cmake_dir})
