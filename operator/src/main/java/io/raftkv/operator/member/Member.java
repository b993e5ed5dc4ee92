package io.raftkv.operator.member;

import java.util.List;

/**
 * A member as the member list shows it (etcd's {@code Member}).
 *
 * @param id member id
 * @param name published name, "" until the member has started (or as given to ChangeMembers)
 * @param peerUrls advertised peer URLs
 * @param clientUrls client URLs the member published when it started (empty before)
 * @param learner whether it is a learner
 */
public record Member(long id, String name, List<String> peerUrls, List<String> clientUrls, boolean learner) {
    /** Copies the lists. */
    public Member {
        peerUrls = List.copyOf(peerUrls);
        clientUrls = List.copyOf(clientUrls);
    }

    /** The first peer URL, or "" when there is none. */
    public String peerUrl() {
        return peerUrls.isEmpty() ? "" : peerUrls.get(0);
    }
}
