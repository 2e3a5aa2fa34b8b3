# The BitLocker metadata parser. Included inside if(SSRP_FUZZ) in tests.cmake.
# The seeds are a real metadata block (clear key, recovery password and TPM
# protectors) from a volume made with `ssrp volume`, as a whole 64 KiB region
# and as its used bytes, and damaged copies of it.
ssrp_fuzz(fuzz_fve_metadata ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_fve_metadata.c
          ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/fve_metadata PkgConfig::ZLIB)
# Boot sectors (BitLocker's and To Go's FAT sector, from Windows-made
# volumes) and a .BEK startup key; the first byte of an input picks which.
ssrp_fuzz(fuzz_fve_boot ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_fve_boot.c
          ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/fve_boot)
