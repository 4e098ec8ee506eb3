#ifndef CLIBPQ_H
#define CLIBPQ_H
#include <libpq-fe.h>

// PG_DIAG_* are char macros; Swift sees them as nothing useful. One accessor per field we read.
static inline const char *chatd_pq_sqlstate(const PGresult *res) {
  return PQresultErrorField(res, PG_DIAG_SQLSTATE);
}
static inline const char *chatd_pq_constraint(const PGresult *res) {
  return PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
}
static inline const char *chatd_pq_primary_message(const PGresult *res) {
  return PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
}

// NOTICEs go to stderr unless a receiver is installed; the store ignores them.
static void chatd_pq_ignore_notice(void *arg, const PGresult *res) {
  (void)arg;
  (void)res;
}
static inline void chatd_pq_silence_notices(PGconn *conn) {
  PQsetNoticeReceiver(conn, chatd_pq_ignore_notice, NULL);
}
#endif
