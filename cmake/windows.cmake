# The Windows configuration of the project (CMAKE_SYSTEM_NAME Windows, with
# cmake/toolchain-mingw64.cmake and the dependencies scripts/windows-deps
# cross-builds): libssrp.dll with its import library, and ssrp.exe, the
# production command. The platform does the platform's jobs: TPM Base
# Services (tpm/tbs_transport_windows.c), BitLocker through WMI
# (bitlocker/backend_wmi.c), CNG for hashing, randomness and signing, the
# Windows file API (hal/*_windows.c), libcurl over Schannel. The tbs
# backend seals and unseals with tpm2-tss's ESAPI over its own TBS
# transport (tpm/tbs_esapi.c): tpm2-tss's libraries are linked in
# statically (scripts/windows-deps builds them; ESAPI's crypto is the same
# libcrypto). The BitLocker
# on-disk codec (bitlk: volume images, bitlocker/bitlk_*.c, fve_*.c,
# stretch.c) takes its ciphers from OpenSSL's libcrypto and its CRC-32 from
# zlib, both linked in statically (scripts/windows-deps builds libcrypto;
# Debian's libz-mingw-w64-dev has zlib). Nothing but Windows system DLLs,
# libcurl.dll and libcjson.dll is imported.
#
# Not built here: the tss2 backend's TCTI-loader front (the tbs backend is
# Windows' TPM backend; its ESAPI part uses the tss2 backend's files), the
# simulator, the association server and the tests.
include(GNUInstallDirs)
find_package(PkgConfig REQUIRED)
pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)

add_compile_options(-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
                    -Wno-missing-field-initializers -Werror
  # GCC checks format(printf) attributes against msvcrt's printf, which has
  # no %zu; the build uses mingw-w64's C99 printf (__USE_MINGW_ANSI_STDIO),
  # and the same formats are checked by the Linux build.
  -Wno-format
  # mingw-w64's GCC 12 at -O2 reports uninitialised uses that inlining
  # invents (escrow/drs_keys.c, tpm/tpm2_marshal.c); shown, not fatal here,
  # while the Linux builds (and valgrind, MSan-free ASan runs) keep them fatal.
  -Wno-error=maybe-uninitialized
  # The few POSIX names the portable files use (setenv, fsync, O_NOFOLLOW).
  -include ${CMAKE_CURRENT_SOURCE_DIR}/hal/compat_windows.h)
# _POSIX_C_SOURCE: mingw-w64's gmtime_r and localtime_r.
add_compile_definitions(__USE_MINGW_ANSI_STDIO=1 _POSIX_C_SOURCE=200809L _WIN32_WINNT=0x0A00)

# Every library source of the rooms, less what belongs to another platform
# or is not ported (see above).
file(GLOB SSRP_WIN_SOURCES CONFIGURE_DEPENDS
  ${CMAKE_CURRENT_SOURCE_DIR}/hal/*.c
  ${CMAKE_CURRENT_SOURCE_DIR}/tpm/*.c
  ${CMAKE_CURRENT_SOURCE_DIR}/bitlocker/*.c
  ${CMAKE_CURRENT_SOURCE_DIR}/escrow/*.c)
list(FILTER SSRP_WIN_SOURCES EXCLUDE REGEX "_(posix|openssl)\\.c$")

list(FILTER SSRP_WIN_SOURCES EXCLUDE REGEX "/hal/(fs|fs_io|fs_lock|fs_trust)\\.c$")

# libgcc linked in: no libgcc_s_seh-1.dll to ship.
add_link_options(-static-libgcc)

# The codec's libcrypto.a (no shared build, none of its symbols exported:
# libssrp.dll exports only what SSRP_API marks) and zlib's libz.a.
set(SSRP_WIN_LIBCRYPTO ${SSRP_MINGW_DEPS}/lib/libcrypto.a)
if(NOT EXISTS ${SSRP_WIN_LIBCRYPTO})
  message(FATAL_ERROR "${SSRP_WIN_LIBCRYPTO} is missing: scripts/windows-deps builds it")
endif()
find_library(SSRP_WIN_LIBZ NAMES libz.a)
find_path(SSRP_WIN_ZLIB_INCLUDE zlib.h)
if(NOT SSRP_WIN_LIBZ OR NOT SSRP_WIN_ZLIB_INCLUDE)
  message(FATAL_ERROR "zlib for mingw-w64 not found (scripts/bootstrap installs libz-mingw-w64-dev)")
endif()
# tpm2-tss's static libraries, in link order, before the libcrypto they use.
set(SSRP_WIN_TSS2_LIBS)
foreach(l tss2-esys tss2-tctildr tss2-sys tss2-mu tss2-rc)
  if(NOT EXISTS ${SSRP_MINGW_DEPS}/lib/lib${l}.a)
    message(FATAL_ERROR "${SSRP_MINGW_DEPS}/lib/lib${l}.a is missing: scripts/windows-deps builds it")
  endif()
  list(APPEND SSRP_WIN_TSS2_LIBS ${SSRP_MINGW_DEPS}/lib/lib${l}.a)
endforeach()
set(SSRP_WIN_CODEC_LIBS ${SSRP_WIN_TSS2_LIBS} ${SSRP_WIN_LIBCRYPTO} ${SSRP_WIN_LIBZ})

set(SSRP_WIN_SYSTEM_LIBS bcrypt crypt32 tbs ole32 oleaut32 wbemuuid netapi32 ws2_32 advapi32)

add_library(ssrp_objects OBJECT ${SSRP_WIN_SOURCES})
target_include_directories(ssrp_objects PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
                           ${CMAKE_CURRENT_SOURCE_DIR})
target_compile_definitions(ssrp_objects PRIVATE SSRP_SHARED_BUILD)
# libcrypto's headers for the codec's files and tpm2-tss's for the tbs
# backend's ESAPI part; the rest of the library uses CNG (hal/*_bcrypt.c,
# hal/sign_windows.c).
target_include_directories(ssrp_objects PRIVATE ${SSRP_MINGW_DEPS}/include ${SSRP_WIN_ZLIB_INCLUDE})
target_link_libraries(ssrp_objects PUBLIC PkgConfig::CURL PkgConfig::CJSON)

# libssrp.dll and libssrp.dll.a; libssrp.a for the command, as on Linux.
add_library(ssrp SHARED $<TARGET_OBJECTS:ssrp_objects>)
add_library(ssrp_static STATIC $<TARGET_OBJECTS:ssrp_objects>)
set_target_properties(ssrp_static PROPERTIES OUTPUT_NAME ssrp)
foreach(t ssrp ssrp_static)
  target_include_directories(${t} PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  # The dependencies' targets only while building: the installed package
  # names the import libraries it installs (cmake/ssrpConfig-windows.cmake.in).
  target_link_libraries(${t} PRIVATE "$<BUILD_INTERFACE:PkgConfig::CURL;PkgConfig::CJSON>"
                        "$<BUILD_INTERFACE:${SSRP_WIN_CODEC_LIBS}>" ${SSRP_WIN_SYSTEM_LIBS})
endforeach()

# ssrp.exe: the production command's words (the ssrp_cli_words list of
# CMakeLists.txt) over libssrp.
add_executable(ssrp_cli tools/ssrp.c
  tools/cli_main.c
  tools/cli_util.c
  tools/cmd_agent.c
  tools/cmd_assoc.c
  tools/cmd_assoc_login.c
  tools/cmd_assoc_report.c
  tools/cmd_recover.c
  tools/cmd_tpm.c
  tools/cmd_volume.c
  tools/cmd_volume_data.c)
# mingw-w64 links every executable with --out-implib: named after ssrp.exe
# by default, that import library would be libssrp.dll.a and replace the
# DLL's (a program linked to it would import ssrp.exe).
set_target_properties(ssrp_cli PROPERTIES OUTPUT_NAME ssrp IMPORT_PREFIX "" IMPORT_SUFFIX ".exe.a")
target_include_directories(ssrp_cli PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}
                           ${CMAKE_CURRENT_SOURCE_DIR}/include)
target_link_libraries(ssrp_cli PRIVATE ssrp_static PkgConfig::CURL PkgConfig::CJSON
                      ${SSRP_WIN_CODEC_LIBS} ${SSRP_WIN_SYSTEM_LIBS})

# libcurl.dll and libcjson.dll next to ssrp.exe, so the build tree runs (and
# installed with it).
set(SSRP_WIN_DEP_DLLS ${SSRP_MINGW_DEPS}/bin/libcurl.dll ${SSRP_MINGW_DEPS}/bin/libcjson.dll)
foreach(dll ${SSRP_WIN_DEP_DLLS})
  if(NOT EXISTS ${dll})
    message(FATAL_ERROR "${dll} is missing: scripts/windows-deps builds it")
  endif()
endforeach()
add_custom_command(TARGET ssrp_cli POST_BUILD
  COMMAND ${CMAKE_COMMAND} -E copy_if_different ${SSRP_WIN_DEP_DLLS} $<TARGET_FILE_DIR:ssrp_cli>)

# The portable unit tests as Windows programs, run under Wine by the Linux
# build's mingw tests (target windows_unit_tests, not part of "all").
include(${CMAKE_CURRENT_SOURCE_DIR}/tests/windows_unit.cmake)

install(FILES ${SSRP_WIN_DEP_DLLS} DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS ssrp ssrp_static EXPORT ssrpTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS ssrp_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY include/ssrp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        PATTERN sim.h EXCLUDE)

# For programs built against the installed tree (cmake --install): the
# CMake package ssrp (ssrp::ssrp is libssrp.dll through libssrp.dll.a,
# ssrp::ssrp_static is libssrp.a) and ssrp.pc. libssrp.a needs libcurl and
# cJSON, so their import libraries go next to it, as their DLLs go to bin/;
# the public headers include neither.
install(FILES ${SSRP_MINGW_DEPS}/lib/libcurl.dll.a ${SSRP_MINGW_DEPS}/lib/libcjson.dll.a
        DESTINATION ${CMAKE_INSTALL_LIBDIR})
# The static tpm2-tss libraries, libcrypto and zlib, which libssrp.a needs
# too (the DLL has them inside): in a directory of their own, so that a
# program's own -lcrypto, -lz or -ltss2-esys never finds them by accident.
install(FILES ${SSRP_WIN_CODEC_LIBS} DESTINATION ${CMAKE_INSTALL_LIBDIR}/ssrp)
include(CMakePackageConfigHelpers)
install(EXPORT ssrpTargets NAMESPACE ssrp:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ssrp)
configure_package_config_file(cmake/ssrpConfig-windows.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/ssrpConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ssrp
  PATH_VARS CMAKE_INSTALL_LIBDIR)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/ssrpConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/ssrpConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/ssrpConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ssrp)
file(RELATIVE_PATH SSRP_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
list(TRANSFORM SSRP_WIN_SYSTEM_LIBS PREPEND "-l" OUTPUT_VARIABLE _ssrp_pc_libs)
list(JOIN _ssrp_pc_libs " " SSRP_PC_WIN_SYSTEM_LIBS)
configure_file(cmake/ssrp-windows.pc.in ${CMAKE_CURRENT_BINARY_DIR}/ssrp.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/ssrp.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# ssrp.msi with wixl (msitools): packaging/ssrp.wxs over the files above and
# the scheduled task's definition, which schtasks reads as UTF-16.
find_program(SSRP_WIXL wixl)
find_program(SSRP_ICONV iconv)
if(SSRP_WIXL AND SSRP_ICONV)
  add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/ssrp-task.xml
    COMMAND ${SSRP_ICONV} -f UTF-8 -t UTF-16 ${CMAKE_CURRENT_SOURCE_DIR}/packaging/ssrp-task.xml
            > ${CMAKE_BINARY_DIR}/ssrp-task.xml
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/packaging/ssrp-task.xml VERBATIM)
  add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/ssrp.msi
    # wixl finds an absolute Source path nowhere: the files are named from
    # the build directory, relative.
    COMMAND ${SSRP_WIXL} -a x64 -D Version=${PROJECT_VERSION} -D BuildDir=.
            -o ${CMAKE_BINARY_DIR}/ssrp.msi ${CMAKE_CURRENT_SOURCE_DIR}/packaging/ssrp.wxs
    WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/packaging/ssrp.wxs ${CMAKE_BINARY_DIR}/ssrp-task.xml
            ssrp ssrp_cli VERBATIM)
  add_custom_target(ssrp_msi ALL DEPENDS ${CMAKE_BINARY_DIR}/ssrp.msi)
else()
  message(STATUS "wixl or iconv not found: no ssrp.msi (scripts/bootstrap installs wixl)")
endif()
