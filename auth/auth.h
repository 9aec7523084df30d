/* auth/: identities, policy, audit (being written; see issue 7). */
#ifndef JG_AUTH_H
#define JG_AUTH_H
#endif
