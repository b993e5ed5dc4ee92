package io.raftkv.operator.reconcile;

import io.raftkv.operator.plan.Topology;

/**
 * Members of RaftCluster {@code name} in {@code namespace}: pod {@code name-i}, reachable by its
 * stable DNS name under the headless peer Service, {@code name-i.name-peer.namespace.svc}.
 *
 * @param name the RaftCluster's name
 * @param namespace its namespace
 */
public record KubernetesTopology(String name, String namespace) implements Topology {
    /** Client port (etcd's 2379). */
    public static final int CLIENT_PORT = 2379;
    /** Peer port (etcd's 2380). */
    public static final int PEER_PORT = 2380;
    /** Metrics and health port (etcd's --listen-metrics-urls convention, client port + 2). */
    public static final int METRICS_PORT = 2381;

    @Override
    public String memberName(int ordinal) {
        return name + "-" + ordinal;
    }

    @Override
    public String peerUrl(int ordinal) {
        return "http://" + host(ordinal) + ":" + PEER_PORT;
    }

    @Override
    public String clientUrl(int ordinal) {
        return "http://" + host(ordinal) + ":" + CLIENT_PORT;
    }

    /** The pod's stable DNS name. */
    public String host(int ordinal) {
        return memberName(ordinal) + "." + peerServiceName() + "." + namespace + ".svc";
    }

    /** The headless Service giving members their DNS names. */
    public String peerServiceName() {
        return name + "-peer";
    }

    /** The Service applications connect to. */
    public String clientServiceName() {
        return name + "-client";
    }

    /** The ConfigMap applications read the endpoint list from. */
    public String clientConfigMapName() {
        return name + "-client";
    }

    /** The ConfigMap the node entrypoint reads its bootstrap configuration from. */
    public String bootstrapConfigMapName() {
        return name + "-bootstrap";
    }

    /** The client Service endpoint, host:port. */
    public String clientEndpoint() {
        return clientServiceName() + "." + namespace + ".svc:" + CLIENT_PORT;
    }

    /** Name of the volume claim of ordinal {@code i} (StatefulSet claim template {@code data}). */
    public String claimName(int ordinal) {
        return "data-" + memberName(ordinal);
    }
}
