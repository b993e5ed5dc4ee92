/**
 * etcd's watch, served locally from the member's own store. {@link io.raftkv.server.watch.WatchHub}
 * owns every watcher and runs on one thread of its own: the apply thread only hands it each new
 * revision (never blocking, with a bounded queue), gRPC threads only hand it commands. Each
 * watcher receives the events of its range in revision order with no gap and no duplicate; a
 * watcher whose stream has no room is moved from the live ("synced") group to the "unsynced" one
 * and catches up from the store's history, so a slow client costs a bounded buffer and never slows
 * other watchers, writes or apply.
 */
package io.raftkv.server.watch;
