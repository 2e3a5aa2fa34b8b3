# The wmi volume backend: its portable HRESULT and type tables (unit, on any
# system), and a Windows cross-build of the backend through the volume core
# (mingw).

ssrp_test(unit_bitlocker_fve_errors SOURCES unit/test_fve_errors.c LABELS unit)

# Builds wmi_probe.exe with x86_64-w64-mingw32-gcc at test time; the script
# exits 77 (skip) only when that compiler is not installed.
add_test(NAME mingw_wmi_backend
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mingw/build_wmi_probe.sh
                 ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/mingw)
set_tests_properties(mingw_wmi_backend PROPERTIES LABELS mingw SKIP_RETURN_CODE 77 TIMEOUT 300)
