#include "relay/err.h"

const char *jg_strerror(int err)
{
	switch ((enum jg_err)err) {
	case JG_OK:
		return "success";
	case JG_ERR_NOMEM:
		return "out of memory";
	case JG_ERR_INVAL:
		return "invalid argument";
	case JG_ERR_PROTO:
		return "protocol error";
	case JG_ERR_FLOW:
		return "flow-control window exceeded";
	case JG_ERR_TOOBIG:
		return "length over limit";
	case JG_ERR_NOCHAN:
		return "no such channel";
	case JG_ERR_STATE:
		return "invalid state";
	case JG_ERR_IO:
		return "I/O error";
	case JG_ERR_CONFIG:
		return "invalid configuration";
	case JG_ERR_TLS:
		return "TLS failure";
	case JG_ERR_NOTFOUND:
		return "not found";
	case JG_ERR_AGAIN:
		return "try again";
	case JG_ERR_CLOSED:
		return "closed";
	}
	return "unknown error";
}
