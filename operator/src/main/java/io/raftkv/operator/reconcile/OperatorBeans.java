package io.raftkv.operator.reconcile;

import io.raftkv.operator.member.GrpcMemberClient;
import io.raftkv.operator.member.MemberClient;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;

import java.time.Clock;

/** CDI producers for the operator process: the gRPC member client and the wall clock. */
@ApplicationScoped
public class OperatorBeans {

    /** One client for all clusters; it caches a channel per member endpoint. */
    @Produces
    @ApplicationScoped
    MemberClient memberClient() {
        return new GrpcMemberClient();
    }

    void close(@Disposes MemberClient client) {
        client.close();
    }

    /** The wall clock the observer stamps observations with. */
    @Produces
    @ApplicationScoped
    Clock clock() {
        return Clock.systemUTC();
    }
}
