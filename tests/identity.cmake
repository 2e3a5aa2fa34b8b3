# The device's identity and primary users (hal/identity.h): the portable
# backend with certificates made by the test, the same against the simulated
# cloud's real device certificates, the configuration's "device" and "agent"
# members, the Windows backends cross-built with mingw-w64, and a fuzz target
# for the configuration parser.
ssrp_test(unit_identity SOURCES unit/test_identity.c integration/sim_helpers.c LABELS unit LIBS PkgConfig::CRYPTO)
ssrp_test(unit_platform SOURCES unit/test_platform.c LABELS unit)
ssrp_test(unit_config_agent SOURCES unit/test_config_agent.c LABELS unit)

if(TARGET ssrp_cli)
  ssrp_test(integration_identity_sim SOURCES unit/test_identity_sim.c integration/sim_helpers.c
            LABELS integration LIBS PkgConfig::CJSON)
  foreach(t integration_identity_sim valgrind_integration_identity_sim)
    if(TEST ${t})
      set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT "SSRP_BIN=$<TARGET_FILE:ssrp_sim_cli>;SSRP_ASSOCD_BIN=$<TARGET_FILE:ssrp_assocd>")
    endif()
  endforeach()
endif()

# Builds identity_probe.exe (hal/identity_windows.c, hal/uda_wmi.c and the
# portable part) with x86_64-w64-mingw32-gcc at test time and checks that
# NetGetAadJoinInformation is loaded at run time, not imported; exits 77
# (skip) only when that compiler is not installed.
add_test(NAME mingw_identity
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mingw/build_identity_probe.sh
                 ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/mingw)
set_tests_properties(mingw_identity PROPERTIES LABELS mingw SKIP_RETURN_CODE 77 TIMEOUT 300)

if(SSRP_FUZZ)
  ssrp_fuzz(fuzz_config ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_config.c
            ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/config)
endif()
