/**
 * The Kubernetes side: {@link io.raftkv.operator.reconcile.RaftClusterReconciler} ensures the owned
 * objects ({@link io.raftkv.operator.reconcile.ClusterResources}: StatefulSet, headless peer Service,
 * client Service, PodDisruptionBudget, bootstrap and client ConfigMaps, all with owner references),
 * runs one membership-driver round through {@link io.raftkv.operator.reconcile.KubernetesWorkloads},
 * writes the status ({@link io.raftkv.operator.reconcile.StatusBuilder}), records an Event per step
 * and reconcile metrics, and requeues. Reconciles of one RaftCluster never overlap (the framework
 * serialises them per resource).
 */
package io.raftkv.operator.reconcile;
