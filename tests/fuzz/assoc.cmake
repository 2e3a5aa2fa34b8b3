# The association requests (request body, WebhookData) and the batch input
# file (escrow/assoc_request.c, escrow/assoc_input.c).
ssrp_fuzz(fuzz_assoc_request ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_assoc_request.c
          ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/assoc_request)
# The licence rule over assignedLicenses and subscribedSkus (escrow/assoc_licence.c).
ssrp_fuzz(fuzz_assoc_licence ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_assoc_licence.c
          ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/assoc_licence)
