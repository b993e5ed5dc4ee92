/**
 * {@link io.raftkv.operator.member.MemberClient}: the one seam in front of every call the operator
 * makes to a raftkv cluster (etcd's Cluster and Maintenance services, raftkv.v1.Membership).
 * {@link io.raftkv.operator.member.GrpcMemberClient} speaks gRPC with stubs generated from the
 * node's own protos. Calls block with a deadline and throw {@link
 * io.raftkv.operator.member.MemberClientException} on failure; a failed membership call may or may
 * not have been applied, so callers re-observe instead of retrying blindly.
 */
package io.raftkv.operator.member;
