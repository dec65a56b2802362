/* ike_wire.c — name tables generated from the X-macro lists in ike_wire.h. */
#include "config.h"

#include "ike_wire.h"

#define UNKNOWN "UNKNOWN"
#define CASE(sym, val, name) case val: return name;
#define NAME_FN(fn, list)                                                     \
	const char *fn(unsigned v)                                            \
	{                                                                     \
		switch (v) {                                                  \
		list(CASE)                                                    \
		}                                                             \
		return UNKNOWN;                                               \
	}

NAME_FN(ike_xchg_name, IKE_XCHG_LIST)
NAME_FN(ike_payload_name, IKE_PL_LIST)
NAME_FN(ike_notify_name, IKE_N_LIST)
NAME_FN(ike_proto_name, IKE_PROTO_LIST)
NAME_FN(ike_xf_type_name, IKE_XF_LIST)
NAME_FN(ike_id_type_name, IKE_ID_LIST)
NAME_FN(ike_cert_enc_name, IKE_CERT_LIST)
NAME_FN(ike_auth_method_name, IKE_AUTH_LIST)
NAME_FN(ike_ts_type_name, IKE_TS_LIST)
NAME_FN(ike_cp_type_name, IKE_CP_LIST)

static NAME_FN(encr_name, IKE_ENCR_LIST)
static NAME_FN(prf_name, IKE_PRF_LIST)
static NAME_FN(integ_name, IKE_INTEG_LIST)
static NAME_FN(dh_name, IKE_DH_LIST)
static NAME_FN(esn_name, IKE_ESN_LIST)

const char *ike_xf_id_name(unsigned type, unsigned id)
{
	switch (type) {
	case IKE_XF_ENCR:  return encr_name(id);
	case IKE_XF_PRF:   return prf_name(id);
	case IKE_XF_INTEG: return integ_name(id);
	case IKE_XF_DH:    return dh_name(id);
	case IKE_XF_ESN:   return esn_name(id);
	}
	return UNKNOWN;
}
