# The Windows dependencies (scripts/windows-deps: libcurl with Schannel,
# cJSON, cmocka cross-built from Debian's source packages, cached outside
# the tree) and cmake/toolchain-mingw64.cmake, for real: a program built
# against them runs under Wine against the simulated cloud, TLS with the
# simulator's CA and mutual TLS to DRS with the device's PFX. A cold
# dependency build takes minutes; a missing mirror, compiler or Wine fails
# the test. Included from tests/CMakeLists.txt when ssrp_cloud exists.
#
# mingw_deps builds (or finds in the cache) the dependencies once, first: the
# fixture mingw_deps makes the tests that need them wait for it, so that with
# a cold cache one slot builds them while the other runs other tests, rather
# than two mingw tests each holding a slot, one waiting on the other's lock.
add_test(NAME mingw_deps COMMAND sh ${PROJECT_SOURCE_DIR}/scripts/windows-deps)
set_tests_properties(mingw_deps PROPERTIES LABELS mingw TIMEOUT 1800 FIXTURES_SETUP mingw_deps
                     COST 600)
if(TARGET ssrp_sim_cli)
  add_test(NAME mingw_windows_deps
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mingw/run_curl_probe.sh
                   ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/mingw/windows_deps
                   $<TARGET_FILE:ssrp_sim_cli>)
  set_tests_properties(mingw_windows_deps PROPERTIES LABELS mingw TIMEOUT 1800
                       FIXTURES_REQUIRED mingw_deps)
endif()
