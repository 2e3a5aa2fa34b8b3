# BitLocker cryptography: stretching, AES-CCM, XTS. The test also computes
# with OpenSSL directly, as a reference. Its memcheck run does every check
# but the second full 2^20-iteration stretch of the known answer (the same
# loop as the first, through ssrp_stretch directly).
ssrp_test(unit_bitlocker_crypto SOURCES unit/test_bitlocker_crypto.c LABELS unit
          LIBS PkgConfig::CRYPTO)
# Recovery passwords: no OpenSSL, so the Windows build runs it too.
ssrp_test(unit_recovery_password SOURCES unit/test_recovery_password.c LABELS unit)
