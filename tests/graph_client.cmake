# The Graph client (escrow/graph_client.c, escrow/config.c, hal/http.c):
# its pure parts alone, and the whole client against `ssrp sim cloud start`.
# Included from tests/CMakeLists.txt when ssrp_cloud exists.
ssrp_test(unit_graph_client SOURCES unit/test_graph_unit.c LABELS unit)

# Its memcheck run takes the application's RSA key from the openssl command
# (tests/test_rsa_key.h); everything else runs as in the plain run.
ssrp_test(integration_graph_client SOURCES integration/test_graph_client.c integration/sim_helpers.c
          LABELS integration LIBS PkgConfig::CJSON PkgConfig::CRYPTO)
foreach(t integration_graph_client valgrind_integration_graph_client)
  if(TEST ${t})
    set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT "SSRP_BIN=$<TARGET_FILE:ssrp_sim_cli>;SSRP_ASSOCD_BIN=$<TARGET_FILE:ssrp_assocd>")
  endif()
endforeach()

# A scripted local HTTPS server for what the simulator does not do (inner
# 429 in a $batch, a revoked token, a body that is not JSON, the size cap).
if(TARGET PkgConfig::MHD)
  ssrp_test(unit_graph_fake SOURCES unit/test_graph_fake.c unit/fake_https.c
            integration/sim_helpers.c LABELS unit
            LIBS PkgConfig::MHD PkgConfig::CJSON PkgConfig::CRYPTO Threads::Threads)
endif()
