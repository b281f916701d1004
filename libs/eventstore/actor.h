#ifndef CRM_LIBS_EVENTSTORE_ACTOR_H_
#define CRM_LIBS_EVENTSTORE_ACTOR_H_

// Who an append is made for, recorded on every stored event (audit: who
// did what when). The gRPC edge (rpc::CallerFrom) sets it on the handler's
// thread for the verified caller; appends from threads that never set it
// (scheduled rules, reactions to other services' topics) are the system's.

#include <string>

namespace crm::eventstore {

struct Actor {
  std::string user;     // empty: the system
  std::string service;  // the calling service when a service acts for `user`
};

inline thread_local Actor current_actor;

inline void SetCallActor(std::string user, std::string service) {
  current_actor.user = std::move(user);
  current_actor.service = std::move(service);
}

}  // namespace crm::eventstore

#endif  // CRM_LIBS_EVENTSTORE_ACTOR_H_
