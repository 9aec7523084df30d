#include "auth/auth.h"
typedef int jg_auth_placeholder;
