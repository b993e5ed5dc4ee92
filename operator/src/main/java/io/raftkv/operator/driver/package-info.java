/**
 * The membership driver: one reconcile round = observe ({@link io.raftkv.operator.driver.ClusterObserver}),
 * plan ({@link io.raftkv.operator.plan.Planner}), execute the one step
 * ({@link io.raftkv.operator.driver.MembershipDriver}). The cluster is reached only through
 * {@link io.raftkv.operator.member.MemberClient}, the pods and volumes only through
 * {@link io.raftkv.operator.driver.Workloads} (Kubernetes objects in the operator, local processes
 * in tests). The driver keeps no state between rounds, so a new instance resumes from observed state.
 */
package io.raftkv.operator.driver;
