# Cross-compiling for 64-bit Windows with Debian's mingw-w64
# (x86_64-w64-mingw32), against the dependencies scripts/windows-deps builds
# from Debian's source packages (libcurl with Schannel, cJSON, cmocka).
#
# The dependency prefix is SSRP_MINGW_DEPS (a cache variable or the
# environment variable of that name); when neither is set, scripts/windows-deps
# is run once to build it if missing (cached) and name it.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(SSRP_MINGW_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${SSRP_MINGW_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${SSRP_MINGW_TRIPLE}-g++)
set(CMAKE_RC_COMPILER ${SSRP_MINGW_TRIPLE}-windres)

if(NOT SSRP_MINGW_DEPS AND DEFINED ENV{SSRP_MINGW_DEPS})
  set(SSRP_MINGW_DEPS "$ENV{SSRP_MINGW_DEPS}")
endif()
if(NOT SSRP_MINGW_DEPS)
  execute_process(
    COMMAND "${CMAKE_CURRENT_LIST_DIR}/../scripts/windows-deps"
    OUTPUT_VARIABLE SSRP_MINGW_DEPS
    OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE _ssrp_deps_rc)
  if(NOT _ssrp_deps_rc EQUAL 0 OR NOT IS_DIRECTORY "${SSRP_MINGW_DEPS}")
    message(FATAL_ERROR "scripts/windows-deps could not build the Windows dependencies")
  endif()
endif()
set(SSRP_MINGW_DEPS "${SSRP_MINGW_DEPS}" CACHE PATH "Prefix of the cross-built Windows dependencies")
# The toolchain file is read again for every try_compile: reuse the prefix.
set(ENV{SSRP_MINGW_DEPS} "${SSRP_MINGW_DEPS}")
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES SSRP_MINGW_DEPS)

set(CMAKE_FIND_ROOT_PATH /usr/${SSRP_MINGW_TRIPLE} "${SSRP_MINGW_DEPS}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config sees only the Windows prefix, never the build machine's .pc files.
set(ENV{PKG_CONFIG_LIBDIR} "${SSRP_MINGW_DEPS}/lib/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")
