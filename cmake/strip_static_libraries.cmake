# CPack pre-build script: drops the debugging information of the static
# libraries in the staging tree (install --strip leaves archives alone).
if(NOT CPACK_PPOOL_STRIP)
  return()
endif()
file(GLOB_RECURSE archives "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*.a")
foreach(archive IN LISTS archives)
  execute_process(COMMAND ${CPACK_PPOOL_STRIP} --strip-debug --enable-deterministic-archives ${archive}
                  RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "strip --strip-debug ${archive} failed")
  endif()
endforeach()
