# The hardening Debian's dpkg-buildflags gives a package built with
# hardening=+all: the library and the command run as root and parse what
# comes over the network. tests/install/hardening.sh checks the installed
# binaries for each of these.
#
#   -fstack-protector-strong         canaries (imports __stack_chk_fail)
#   -D_FORTIFY_SOURCE=2              bounds-checked libc calls (__*_chk); needs
#                                    optimisation, so only in the optimised
#                                    build types (scripts/build: RelWithDebInfo)
#   -Wformat -Werror=format-security no printf-family call with a variable
#                                    format and no arguments
#   PIE executables, PIC libraries   CMAKE_POSITION_INDEPENDENT_CODE (CMP0083)
#   -z relro -z now                  full RELRO: the GOT is read-only after
#                                    start-up, every symbol bound at load
#   -z noexecstack                   no executable stack
#
# Under the sanitizers (SSRP_SANITIZE, and the fuzz tree) there is no
# _FORTIFY_SOURCE: ASan intercepts the plain libc calls, and the __*_chk
# variants would bypass its checks.
include(CheckPIESupported)
check_pie_supported(LANGUAGES C)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)

add_compile_options(-fstack-protector-strong -Wformat -Werror=format-security)
if(NOT SSRP_SANITIZE AND NOT SSRP_FUZZ)
  add_compile_options(
    "$<$<CONFIG:Release,RelWithDebInfo,MinSizeRel>:-U_FORTIFY_SOURCE;-D_FORTIFY_SOURCE=2>")
endif()
add_link_options(LINKER:-z,relro LINKER:-z,now LINKER:-z,noexecstack)
