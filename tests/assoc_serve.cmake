# `ssrp assoc serve` (tools/assoc_server.c) and the device's client for it
# (escrow/assoc_client.c). Included from tests/CMakeLists.txt when
# ssrp_cloud exists.
ssrp_test(unit_assoc_client SOURCES unit/test_assoc_client.c LABELS unit)
# What text a request may carry (escrow/assoc_request.c) and what the audit
# log makes of any text, refusals rate-limited (escrow/audit.c).
ssrp_test(unit_assoc_request_text SOURCES unit/test_assoc_request_text.c LABELS unit
          LIBS PkgConfig::CJSON)
# The service's limits in the configuration (escrow/config_serve.c).
ssrp_test(unit_config_serve SOURCES unit/test_config_serve.c LABELS unit)

# The service and the client against `ssrp sim cloud start`, both run as
# the real command over HTTPS with real certificates.
pkg_check_modules(SSL REQUIRED IMPORTED_TARGET libssl)
ssrp_test(integration_assoc_serve SOURCES integration/test_assoc_serve.c integration/sim_helpers.c
          LABELS integration LIBS PkgConfig::CJSON PkgConfig::SSL PkgConfig::CRYPTO
          Threads::Threads)
foreach(t integration_assoc_serve valgrind_integration_assoc_serve)
  if(TEST ${t})
    # Appended: the valgrind_ variant already has SSRP_UNDER_VALGRIND=1.
    set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT "SSRP_BIN=$<TARGET_FILE:ssrp_sim_cli>;SSRP_ASSOCD_BIN=$<TARGET_FILE:ssrp_assocd>")
  endif()
endforeach()

# The client's parsers of the service's and Automation's answers. ssrp_fuzz()
# is defined by tests/fuzz/tests.cmake, which tests/CMakeLists.txt includes
# after this file: the call is deferred to the end of the directory. The
# seed corpus is written into the build tree.
if(SSRP_FUZZ)
  set(SSRP_ASSOC_SERVE_FUZZ_SEEDS ${CMAKE_CURRENT_BINARY_DIR}/fuzz_assoc_serve_client.seeds)
  file(WRITE ${SSRP_ASSOC_SERVE_FUZZ_SEEDS}/service.json
       "{\"deviceId\":\"0c0c0c0c-1111-4222-8333-444444444444\",\"decisions\":[{\"user\":\"CONTOSO\\\\alice\",\"upn\":\"alice@contoso.example\",\"relation\":\"registeredOwners\",\"outcome\":\"added\",\"licence\":\"ok\",\"licence_plan\":\"AAD_PREMIUM\",\"detail\":\"added\"}]}")
  file(WRITE ${SSRP_ASSOC_SERVE_FUZZ_SEEDS}/webhook.json
       "{\"JobIds\":[\"5b7a1c2e-0000-4000-8000-000000000001\"]}")
  file(WRITE ${SSRP_ASSOC_SERVE_FUZZ_SEEDS}/error.json
       "{\"error\":{\"code\":\"OtherDevice\",\"message\":\"This device may only ask about itself.\"}}")
  function(ssrp_assoc_serve_fuzz)
    ssrp_fuzz(fuzz_assoc_serve_client ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_assoc_serve_client.c
              ${SSRP_ASSOC_SERVE_FUZZ_SEEDS} PkgConfig::CJSON)
  endfunction()
  ssrp_assoc_serve_fuzz()
endif()
