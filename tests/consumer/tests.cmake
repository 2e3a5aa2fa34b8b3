# The installed library, as a project outside this tree sees it. Not under
# the sanitizers: the consumer is built by a plain compiler.
if(NOT SSRP_SANITIZE AND NOT SSRP_FUZZ)
  add_test(NAME install_consumer
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/consumer/run.sh ${PROJECT_BINARY_DIR})
  set_tests_properties(install_consumer PROPERTIES LABELS install TIMEOUT 300)
endif()
