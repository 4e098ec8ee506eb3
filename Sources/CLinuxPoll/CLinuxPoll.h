#ifndef CLINUXPOLL_H
#define CLINUXPOLL_H
// What the PostgreSQL reactor's thread needs of Linux and Swift's Glibc module leaves out
// (Sources/ChatStore/Postgres/PostgresReactor.swift): epoll, eventfd, and its thread name.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>

// prctl is variadic, which Swift cannot call. Linux keeps 15 bytes of the name.
static inline int chatd_name_this_thread(const char *name) {
  return prctl(PR_SET_NAME, name, 0, 0, 0);
}
#endif
