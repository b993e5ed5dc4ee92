package io.raftkv.server.http;

import io.raftkv.server.node.NodeRuntime;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

/**
 * etcd's HTTP health endpoints on the client port: {@code /livez} (the process and its driver
 * run), {@code /readyz} and {@code /health} (a leader is known; {@code /health} uses etcd's JSON
 * shape {@code {"health":"true"}}). Prometheus metrics are served at {@code /metrics}.
 */
@ApplicationScoped
public class HealthRoutes {

    @Inject
    NodeRuntime node;

    void routes(@Observes Router router) {
        router.get("/livez").handler(rc -> {
            boolean live = !node.started() || node.driver().fatalError() == null;
            rc.response().setStatusCode(live ? 200 : 503).end(live ? "ok" : "driver stopped");
        });
        router.get("/readyz").handler(rc -> {
            boolean ready = node.hasLeader();
            rc.response().setStatusCode(ready ? 200 : 503).end(ready ? "ok" : "no leader");
        });
        router.get("/health").handler(rc -> {
            boolean ok = node.hasLeader();
            rc.response().setStatusCode(ok ? 200 : 503).putHeader("Content-Type", "application/json")
                    .end(ok ? "{\"health\":\"true\",\"reason\":\"\"}" : "{\"health\":\"false\",\"reason\":\"RAFT NO LEADER\"}");
        });
    }
}
