# BitLocker cryptography: recovery passwords, stretching, AES-CCM, XTS, GUIDs.
# The test also computes with OpenSSL directly, as a reference.
ssrp_test(unit_bitlocker_crypto SOURCES unit/test_bitlocker_crypto.c LABELS unit
          LIBS PkgConfig::CRYPTO)
