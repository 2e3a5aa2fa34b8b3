# The vendor examples (examples/): built out of tree against this build
# installed in a scratch prefix, each backend through the installed
# conformance suite and the device agent. Not under the sanitizers: the
# examples are built by a plain compiler.
if(NOT SSRP_SANITIZE AND NOT SSRP_FUZZ)
  add_test(NAME install_examples
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/examples/run.sh ${PROJECT_BINARY_DIR})
  set_tests_properties(install_examples PROPERTIES LABELS install TIMEOUT 600)
endif()
