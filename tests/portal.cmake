# The simulator's "My devices" page (sim/cloud/portal.c): the handler
# driven directly, and the whole page in headless Chromium over WebDriver.
# Included from tests/CMakeLists.txt when ssrp_cloud exists.
ssrp_test(unit_portal SOURCES unit/test_portal.c LABELS unit LIBS ssrp_cloud PkgConfig::CJSON)

# The page in headless Chromium, driven over WebDriver by chromedriver
# (Debian: chromium, chromium-driver; scripts/bootstrap installs them). No
# valgrind twin: the browser is the point. Screenshots go to
# tests/artefacts/ in the build tree.
if(NOT TARGET PkgConfig::CURL)
  pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
endif()
add_executable(integration_portal_browser integration/test_portal_browser.c integration/sim_helpers.c)
target_include_directories(integration_portal_browser PRIVATE ${PROJECT_SOURCE_DIR}
                           ${PROJECT_SOURCE_DIR}/tests)
target_link_libraries(integration_portal_browser PRIVATE ssrp_static PkgConfig::CMOCKA PkgConfig::CURL
                      PkgConfig::CJSON PkgConfig::CRYPTO)
add_test(NAME integration_portal_browser COMMAND integration_portal_browser)
set_tests_properties(integration_portal_browser PROPERTIES
  LABELS "integration;browser" TIMEOUT 180 RESOURCE_LOCK browser
  ENVIRONMENT "SSRP_BIN=$<TARGET_FILE:ssrp_sim_cli>;SSRP_ASSOCD_BIN=$<TARGET_FILE:ssrp_assocd>;SSRP_ARTEFACT_DIR=${CMAKE_BINARY_DIR}/tests/artefacts")

# Paths, cookies and form bodies fed to cloud_portal_handle (libFuzzer).
# ssrp_fuzz() is defined by fuzz/tests.cmake, which tests/CMakeLists.txt
# includes after this file, so the call is deferred to the end of the
# directory. The seed corpus is written into the build tree.
if(SSRP_FUZZ)
  set(portal_seeds ${CMAKE_CURRENT_BINARY_DIR}/fuzz_portal.seeds)
  file(MAKE_DIRECTORY ${portal_seeds})
  # control byte, path, cookie line, body (see fuzz/fuzz_portal.c)
  file(WRITE ${portal_seeds}/get-root "H/\n\n")
  file(WRITE ${portal_seeds}/signin "!/signin\n\nusername=alice%40contoso.example&password=@PW@")
  file(WRITE ${portal_seeds}/signin-wrong "!/signin\na=b\nusername=bob%40contoso.example&password=x+y%21")
  file(WRITE ${portal_seeds}/devices "H/devices\ntheme=dark\n")
  file(WRITE ${portal_seeds}/show-key ")/devices/key\n\nkey_id=6f1d2c3b-0a1b-4c2d-8e3f-1234567890ab")
  file(WRITE ${portal_seeds}/bob-key "1/devices/key\n\nkey_id=6F1D2C3B-0A1B-4C2D-8E3F-1234567890AB")
  file(WRITE ${portal_seeds}/signout ")/signout\n\n")
  file(WRITE ${portal_seeds}/raw-cookie "y/devices\n__Host-ssrp-portal=\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"; x=y\n")
  ssrp_fuzz(fuzz_portal ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_portal.c ${portal_seeds} ssrp_cloud)
endif()
