/* ike_wire.h — IKEv2 wire constants (RFC 7296 §3 and the IANA "IKEv2 Parameters"
 * registry) with X-macro name tables for logging (aesthetics.md §7.3).
 *
 * Each list is X(symbol suffix, value, "log name"); the enum and the name function are
 * generated from it, so a constant cannot exist without its name. Name functions return
 * a static string, "UNKNOWN" for numbers not in the table. */
#ifndef MESHD_IKE_WIRE_H
#define MESHD_IKE_WIRE_H

#include <stdint.h>

/* RFC 7296 §3.1: IKE header. */
#define IKE_HDR_LEN            28
#define IKE_VERSION_2          0x20      /* major 2, minor 0 */
#define IKE_FLAG_I             0x08      /* sent by the original initiator */
#define IKE_FLAG_V             0x10      /* higher major version possible */
#define IKE_FLAG_R             0x20      /* response */
/* RFC 7296 §3.2: generic payload header. */
#define IKE_GEN_HDR_LEN        4
#define IKE_PL_CRITICAL        0x80
/* RFC 7296 §3.3: substructure "last" markers. */
#define IKE_PROP_LAST          0
#define IKE_PROP_MORE          2
#define IKE_XF_LAST            0
#define IKE_XF_MORE            3
#define IKE_ATTR_TV            0x8000    /* attribute format bit */
#define IKE_ATTR_KEY_LENGTH    14

/* Exchange types (RFC 7296 §3.1; 43 = RFC 9242). */
#define IKE_XCHG_LIST(X)                                                      \
	X(SA_INIT,          34, "IKE_SA_INIT")                                \
	X(AUTH,             35, "IKE_AUTH")                                   \
	X(CREATE_CHILD_SA,  36, "CREATE_CHILD_SA")                            \
	X(INFORMATIONAL,    37, "INFORMATIONAL")                              \
	X(SESSION_RESUME,   38, "IKE_SESSION_RESUME")                         \
	X(INTERMEDIATE,     43, "IKE_INTERMEDIATE")

/* Payload types (RFC 7296 §3.2; 53 = RFC 7383 SKF). */
#define IKE_PL_LIST(X)                                                        \
	X(NONE,       0, "NONE")                                              \
	X(SA,        33, "SA")                                                \
	X(KE,        34, "KE")                                                \
	X(IDI,       35, "IDi")                                               \
	X(IDR,       36, "IDr")                                               \
	X(CERT,      37, "CERT")                                              \
	X(CERTREQ,   38, "CERTREQ")                                           \
	X(AUTH,      39, "AUTH")                                              \
	X(NONCE,     40, "Nonce")                                             \
	X(NOTIFY,    41, "N")                                                 \
	X(DELETE,    42, "D")                                                 \
	X(VID,       43, "V")                                                 \
	X(TSI,       44, "TSi")                                               \
	X(TSR,       45, "TSr")                                               \
	X(SK,        46, "SK")                                                \
	X(CP,        47, "CP")                                                \
	X(EAP,       48, "EAP")                                               \
	X(SKF,       53, "SKF")

/* Notify message types (RFC 7296 §3.10.1 and later RFCs; 40960 is Libreswan's private
 * NULL_AUTH used by mixed OE, libreswan-oe.md §4.1). Errors are < 16384. */
#define IKE_N_LIST(X)                                                         \
	X(UNSUPPORTED_CRITICAL_PAYLOAD,     1, "UNSUPPORTED_CRITICAL_PAYLOAD") \
	X(INVALID_IKE_SPI,                  4, "INVALID_IKE_SPI")             \
	X(INVALID_MAJOR_VERSION,            5, "INVALID_MAJOR_VERSION")       \
	X(INVALID_SYNTAX,                   7, "INVALID_SYNTAX")              \
	X(INVALID_MESSAGE_ID,               9, "INVALID_MESSAGE_ID")          \
	X(INVALID_SPI,                     11, "INVALID_SPI")                 \
	X(NO_PROPOSAL_CHOSEN,              14, "NO_PROPOSAL_CHOSEN")          \
	X(INVALID_KE_PAYLOAD,              17, "INVALID_KE_PAYLOAD")          \
	X(AUTHENTICATION_FAILED,           24, "AUTHENTICATION_FAILED")       \
	X(SINGLE_PAIR_REQUIRED,            34, "SINGLE_PAIR_REQUIRED")        \
	X(NO_ADDITIONAL_SAS,               35, "NO_ADDITIONAL_SAS")           \
	X(INTERNAL_ADDRESS_FAILURE,        36, "INTERNAL_ADDRESS_FAILURE")    \
	X(FAILED_CP_REQUIRED,              37, "FAILED_CP_REQUIRED")          \
	X(TS_UNACCEPTABLE,                 38, "TS_UNACCEPTABLE")             \
	X(INVALID_SELECTORS,               39, "INVALID_SELECTORS")           \
	X(TEMPORARY_FAILURE,               43, "TEMPORARY_FAILURE")           \
	X(CHILD_SA_NOT_FOUND,              44, "CHILD_SA_NOT_FOUND")          \
	X(INITIAL_CONTACT,              16384, "INITIAL_CONTACT")             \
	X(SET_WINDOW_SIZE,              16385, "SET_WINDOW_SIZE")             \
	X(ADDITIONAL_TS_POSSIBLE,       16386, "ADDITIONAL_TS_POSSIBLE")      \
	X(IPCOMP_SUPPORTED,             16387, "IPCOMP_SUPPORTED")            \
	X(NAT_DETECTION_SOURCE_IP,      16388, "NAT_DETECTION_SOURCE_IP")     \
	X(NAT_DETECTION_DESTINATION_IP, 16389, "NAT_DETECTION_DESTINATION_IP") \
	X(COOKIE,                       16390, "COOKIE")                      \
	X(USE_TRANSPORT_MODE,           16391, "USE_TRANSPORT_MODE")          \
	X(HTTP_CERT_LOOKUP_SUPPORTED,   16392, "HTTP_CERT_LOOKUP_SUPPORTED")  \
	X(REKEY_SA,                     16393, "REKEY_SA")                    \
	X(ESP_TFC_PADDING_NOT_SUPPORTED, 16394, "ESP_TFC_PADDING_NOT_SUPPORTED") \
	X(NON_FIRST_FRAGMENTS_ALSO,     16395, "NON_FIRST_FRAGMENTS_ALSO")    \
	X(MOBIKE_SUPPORTED,             16396, "MOBIKE_SUPPORTED")            \
	X(REDIRECT_SUPPORTED,           16406, "REDIRECT_SUPPORTED")          \
	X(REDIRECT,                     16407, "REDIRECT")                    \
	X(REDIRECTED_FROM,              16408, "REDIRECTED_FROM")             \
	X(CHILDLESS_IKEV2_SUPPORTED,    16418, "CHILDLESS_IKEV2_SUPPORTED")   \
	X(IKEV2_FRAGMENTATION_SUPPORTED, 16430, "IKEV2_FRAGMENTATION_SUPPORTED") \
	X(SIGNATURE_HASH_ALGORITHMS,    16431, "SIGNATURE_HASH_ALGORITHMS")   \
	X(INTERMEDIATE_EXCHANGE_SUPPORTED, 16438, "INTERMEDIATE_EXCHANGE_SUPPORTED") \
	X(NULL_AUTH,                    40960, "NULL_AUTH")

/* Protocol IDs (RFC 7296 §3.3.1). */
#define IKE_PROTO_LIST(X)                                                     \
	X(IKE, 1, "IKE")                                                      \
	X(AH,  2, "AH")                                                       \
	X(ESP, 3, "ESP")

/* Transform types (RFC 7296 §3.3.2). */
#define IKE_XF_LIST(X)                                                        \
	X(ENCR,  1, "ENCR")                                                   \
	X(PRF,   2, "PRF")                                                    \
	X(INTEG, 3, "INTEG")                                                  \
	X(DH,    4, "DH")                                                     \
	X(ESN,   5, "ESN")

/* Transform type 1 (encryption) IDs. */
#define IKE_ENCR_LIST(X)                                                      \
	X(3DES,               3, "3DES")                                      \
	X(NULL,              11, "NULL")                                      \
	X(AES_CBC,           12, "AES_CBC")                                   \
	X(AES_CTR,           13, "AES_CTR")                                   \
	X(AES_CCM_8,         14, "AES_CCM_8")                                 \
	X(AES_CCM_12,        15, "AES_CCM_12")                                \
	X(AES_CCM_16,        16, "AES_CCM_16")                                \
	X(AES_GCM_8,         18, "AES_GCM_8")                                 \
	X(AES_GCM_12,        19, "AES_GCM_12")                                \
	X(AES_GCM_16,        20, "AES_GCM_16")                                \
	X(NULL_AUTH_AES_GMAC, 21, "NULL_AUTH_AES_GMAC")                       \
	X(CHACHA20_POLY1305, 28, "CHACHA20_POLY1305")

/* Transform type 2 (PRF) IDs. */
#define IKE_PRF_LIST(X)                                                       \
	X(HMAC_MD5,       1, "HMAC_MD5")                                      \
	X(HMAC_SHA1,      2, "HMAC_SHA1")                                     \
	X(AES128_XCBC,    4, "AES128_XCBC")                                   \
	X(HMAC_SHA2_256,  5, "HMAC_SHA2_256")                                 \
	X(HMAC_SHA2_384,  6, "HMAC_SHA2_384")                                 \
	X(HMAC_SHA2_512,  7, "HMAC_SHA2_512")                                 \
	X(AES128_CMAC,    8, "AES128_CMAC")

/* Transform type 3 (integrity) IDs. */
#define IKE_INTEG_LIST(X)                                                     \
	X(NONE,                 0, "NONE")                                    \
	X(HMAC_MD5_96,          1, "HMAC_MD5_96")                             \
	X(HMAC_SHA1_96,         2, "HMAC_SHA1_96")                            \
	X(AES_XCBC_96,          5, "AES_XCBC_96")                             \
	X(AES_CMAC_96,          8, "AES_CMAC_96")                             \
	X(HMAC_SHA2_256_128,   12, "HMAC_SHA2_256_128")                       \
	X(HMAC_SHA2_384_192,   13, "HMAC_SHA2_384_192")                       \
	X(HMAC_SHA2_512_256,   14, "HMAC_SHA2_512_256")

/* Transform type 4 (Diffie-Hellman / key exchange) groups. */
#define IKE_DH_LIST(X)                                                        \
	X(NONE,        0, "NONE")                                             \
	X(MODP1024,    2, "MODP1024")                                         \
	X(MODP1536,    5, "MODP1536")                                         \
	X(MODP2048,   14, "MODP2048")                                         \
	X(MODP3072,   15, "MODP3072")                                         \
	X(MODP4096,   16, "MODP4096")                                         \
	X(MODP6144,   17, "MODP6144")                                         \
	X(MODP8192,   18, "MODP8192")                                         \
	X(ECP256,     19, "ECP_256")                                          \
	X(ECP384,     20, "ECP_384")                                          \
	X(ECP521,     21, "ECP_521")                                          \
	X(CURVE25519, 31, "CURVE25519")                                       \
	X(CURVE448,   32, "CURVE448")

/* Transform type 5 (extended sequence numbers). */
#define IKE_ESN_LIST(X)                                                       \
	X(NO,  0, "NO")                                                       \
	X(YES, 1, "YES")

/* Identification types (RFC 7296 §3.5; 13 = RFC 7619 ID_NULL). */
#define IKE_ID_LIST(X)                                                        \
	X(IPV4_ADDR,    1, "ID_IPV4_ADDR")                                    \
	X(FQDN,         2, "ID_FQDN")                                         \
	X(RFC822_ADDR,  3, "ID_RFC822_ADDR")                                  \
	X(IPV6_ADDR,    5, "ID_IPV6_ADDR")                                    \
	X(DER_ASN1_DN,  9, "ID_DER_ASN1_DN")                                  \
	X(DER_ASN1_GN, 10, "ID_DER_ASN1_GN")                                  \
	X(KEY_ID,      11, "ID_KEY_ID")                                       \
	X(NULL,        13, "ID_NULL")

/* Certificate encodings (RFC 7296 §3.6; 15 = RFC 7670). */
#define IKE_CERT_LIST(X)                                                      \
	X(PKCS7_X509,       1, "PKCS7_X509")                                  \
	X(X509_SIG,         4, "X509_SIG")                                    \
	X(CRL,              7, "CRL")                                         \
	X(HASH_URL_X509,   12, "HASH_URL_X509")                               \
	X(HASH_URL_BUNDLE, 13, "HASH_URL_BUNDLE")                             \
	X(RAW_PUBLIC_KEY,  15, "RAW_PUBLIC_KEY")

/* Authentication methods (RFC 7296 §3.8; 13 = RFC 7619, 14 = RFC 7427). */
#define IKE_AUTH_LIST(X)                                                      \
	X(RSA_SIG,    1, "RSA_SIG")                                           \
	X(PSK,        2, "SHARED_KEY_MIC")                                    \
	X(DSS_SIG,    3, "DSS_SIG")                                           \
	X(ECDSA_256,  9, "ECDSA_SHA256_P256")                                 \
	X(ECDSA_384, 10, "ECDSA_SHA384_P384")                                 \
	X(ECDSA_521, 11, "ECDSA_SHA512_P521")                                 \
	X(NULL,      13, "NULL")                                              \
	X(DIGSIG,    14, "DIGITAL_SIGNATURE")

/* Traffic selector types (RFC 7296 §3.13.1). */
#define IKE_TS_LIST(X)                                                        \
	X(IPV4_ADDR_RANGE, 7, "TS_IPV4_ADDR_RANGE")                           \
	X(IPV6_ADDR_RANGE, 8, "TS_IPV6_ADDR_RANGE")

/* Configuration payload types (RFC 7296 §3.15). */
#define IKE_CP_LIST(X)                                                        \
	X(REQUEST, 1, "CFG_REQUEST")                                          \
	X(REPLY,   2, "CFG_REPLY")                                            \
	X(SET,     3, "CFG_SET")                                              \
	X(ACK,     4, "CFG_ACK")

/* The symbol is pasted directly (never macro-expanded first), so NULL is safe. */
#define X(sym, val, name) IKE_XCHG_##sym = val,
enum ike_xchg { IKE_XCHG_LIST(X) };
#undef X
#define X(sym, val, name) IKE_PL_##sym = val,
enum ike_pl { IKE_PL_LIST(X) };
#undef X
#define X(sym, val, name) IKE_N_##sym = val,
enum ike_notify_type { IKE_N_LIST(X) };
#undef X
#define X(sym, val, name) IKE_PROTO_##sym = val,
enum ike_proto { IKE_PROTO_LIST(X) };
#undef X
#define X(sym, val, name) IKE_XF_##sym = val,
enum ike_xf_type { IKE_XF_LIST(X) };
#undef X
#define X(sym, val, name) IKE_ENCR_##sym = val,
enum ike_encr { IKE_ENCR_LIST(X) };
#undef X
#define X(sym, val, name) IKE_PRF_##sym = val,
enum ike_prf { IKE_PRF_LIST(X) };
#undef X
#define X(sym, val, name) IKE_INTEG_##sym = val,
enum ike_integ { IKE_INTEG_LIST(X) };
#undef X
#define X(sym, val, name) IKE_DH_##sym = val,
enum ike_dh { IKE_DH_LIST(X) };
#undef X
#define X(sym, val, name) IKE_ESN_##sym = val,
enum ike_esn { IKE_ESN_LIST(X) };
#undef X
#define X(sym, val, name) IKE_ID_##sym = val,
enum ike_id_type { IKE_ID_LIST(X) };
#undef X
#define X(sym, val, name) IKE_CERT_##sym = val,
enum ike_cert_enc { IKE_CERT_LIST(X) };
#undef X
#define X(sym, val, name) IKE_AUTH_##sym = val,
enum ike_auth_method { IKE_AUTH_LIST(X) };
#undef X
#define X(sym, val, name) IKE_TS_##sym = val,
enum ike_ts_type { IKE_TS_LIST(X) };
#undef X
#define X(sym, val, name) IKE_CP_##sym = val,
enum ike_cp_type { IKE_CP_LIST(X) };
#undef X

/* Payload-type bit for the transition tables' payload sets (aesthetics.md §7.8): types
 * 33..53 map to bits 1..21; anything else maps to 0 (no bit). */
#define IKE_PL_BIT(t) ((t) >= IKE_PL_SA && (t) <= IKE_PL_SKF ? UINT64_C(1) << ((t) - 32) : 0)

/* Is this an error notify (RFC 7296 §3.10.1: 0..16383)? */
#define IKE_N_IS_ERROR(n) ((n) > 0 && (n) < 16384)

const char *ike_xchg_name(unsigned x);
const char *ike_payload_name(unsigned type);
const char *ike_notify_name(unsigned n);
const char *ike_proto_name(unsigned p);
const char *ike_xf_type_name(unsigned type);
/* Transform ID name in the space of its transform type (ENCR, PRF, INTEG, DH, ESN). */
const char *ike_xf_id_name(unsigned type, unsigned id);
const char *ike_id_type_name(unsigned t);
const char *ike_cert_enc_name(unsigned e);
const char *ike_auth_method_name(unsigned m);
const char *ike_ts_type_name(unsigned t);
const char *ike_cp_type_name(unsigned t);

#endif
