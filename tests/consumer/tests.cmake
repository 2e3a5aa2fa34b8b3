# The installed library, as a project outside this tree sees it. Not under
# the sanitizers: the consumer is built by a plain compiler.
if(NOT SSRP_SANITIZE AND NOT SSRP_FUZZ)
  add_test(NAME install_consumer
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/consumer/run.sh ${PROJECT_BINARY_DIR})
  set_tests_properties(install_consumer PROPERTIES LABELS install TIMEOUT 300)

  # The installed library and commands carry the hardening of
  # cmake/hardening.cmake (PIE, full RELRO, stack protector, NX stack, and
  # fortified calls in the optimised build types).
  add_test(NAME install_hardening
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/install/hardening.sh ${PROJECT_BINARY_DIR}
                   $<CONFIG:Release,RelWithDebInfo,MinSizeRel>)
  set_tests_properties(install_hardening PROPERTIES LABELS install TIMEOUT 120)

  # The production command and library hold no simulator symbol, test hook
  # or server library, and the library reads no environment variable.
  add_test(NAME install_production
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/install/production.sh ${PROJECT_BINARY_DIR})
  set_tests_properties(install_production PROPERTIES LABELS install TIMEOUT 120)

  # The production commands use only public calls: every tools/*.c builds
  # against the installed headers alone, and ssrp links against the
  # installed libssrp.so (the check is first shown able to fail).
  add_test(NAME install_tools_public
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/install/tools_public.sh ${PROJECT_BINARY_DIR}
                   ${PROJECT_SOURCE_DIR} ${CMAKE_C_COMPILER})
  set_tests_properties(install_tools_public PROPERTIES LABELS install TIMEOUT 300)

  # libssrp's ABI against the dump kept in abi/ (abigail-tools); the
  # abi-update target records the current ABI on purpose.
  add_test(NAME abi_check
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/install/abi.sh check
                   $<TARGET_FILE:ssrp> ${PROJECT_SOURCE_DIR})
  set_tests_properties(abi_check PROPERTIES LABELS "install;abi" TIMEOUT 120)
  add_custom_target(abi-update
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/install/abi.sh update
            $<TARGET_FILE:ssrp> ${PROJECT_SOURCE_DIR}
    DEPENDS ssrp
    COMMENT "Recording the ABI of libssrp in abi/libssrp.so.0.abi"
    VERBATIM)
endif()
