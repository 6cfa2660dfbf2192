/* SCU: association set-up and release, C-ECHO and C-STORE. */
#include "cdcm_assoc.h"
#include "cdcm_store_send.h"
#include "dcmtk/dcmnet/dcompat.h"

#include <cstring>

using cdcm::copy_string;

namespace {

const char *reject_reason_text(const T_ASC_RejectParameters &rej) {
    switch (rej.reason) {
    case ASC_REASON_SU_NOREASON: return "no reason given";
    case ASC_REASON_SU_APPCONTEXTNAMENOTSUPPORTED: return "application context name not supported";
    case ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED: return "calling AE title not recognised";
    case ASC_REASON_SU_CALLEDAETITLENOTRECOGNIZED: return "called AE title not recognised";
    case ASC_REASON_SP_ACSE_NOREASON: return "no reason given (ACSE)";
    case ASC_REASON_SP_ACSE_PROTOCOLVERSIONNOTSUPPORTED: return "protocol version not supported";
    case ASC_REASON_SP_PRES_TEMPORARYCONGESTION: return "temporary congestion";
    case ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED: return "local limit exceeded (too many associations)";
    default: return "unknown reason";
    }
}

T_ASC_SC_ROLE to_asc_role(int role) {
    switch (role) {
    case CDCM_ROLE_SCU: return ASC_SC_ROLE_SCU;
    case CDCM_ROLE_SCP: return ASC_SC_ROLE_SCP;
    case CDCM_ROLE_SCUSCP: return ASC_SC_ROLE_SCUSCP;
    default: return ASC_SC_ROLE_DEFAULT;
    }
}

void destroy(cdcm_assoc *as) {
    if (as == nullptr) return;
    if (as->assoc != nullptr) ASC_destroyAssociation(&as->assoc);
    if (as->net != nullptr) ASC_dropNetwork(&as->net);
    delete as->tls_layer;
    delete as;
}

}  // namespace

namespace cdcm {

T_ASC_PresentationContextID find_context(cdcm_assoc *as, const char *abstract_syntax, cdcm_status *st) {
    T_ASC_PresentationContextID id = ASC_findAcceptedPresentationContextID(as->assoc, abstract_syntax);
    if (id == 0) {
        status_set(st, CDCM_ERR_NO_CONTEXT,
                   as->peer + " did not accept a presentation context for " + abstract_syntax);
    }
    return id;
}

void status_from_dimse(cdcm_status *st, cdcm_assoc *as, const OFCondition &cond, const char *what) {
    std::string text = std::string(what) + " with " + as->peer + " failed";
    if (cond == DIMSE_NODATAAVAILABLE) {
        status_set(st, CDCM_ERR_TIMEOUT, text + ": no response within " + std::to_string(as->dimse_timeout) + " s");
        return;
    }
    if (cond == DUL_PEERABORTEDASSOCIATION) {
        status_set(st, CDCM_ERR_ABORTED, text + ": the peer aborted the association");
        return;
    }
    status_from_condition(st, cond, text);
}

}  // namespace cdcm

extern "C" cdcm_assoc *cdcm_assoc_open(const cdcm_assoc_params *p, const cdcm_pc_proposal *pcs, int pc_count,
                                       cdcm_status *st) {
    cdcm::status_clear(st);
    if (p == nullptr || p->calling_ae == nullptr || p->called_ae == nullptr || p->host == nullptr ||
        pcs == nullptr || pc_count <= 0 || pc_count > 128) {
        cdcm::status_set(st, CDCM_ERR_INVALID, "invalid association parameters (AE titles, host, 1-128 contexts)");
        return nullptr;
    }
    cdcm_assoc *as = nullptr;
    try {
        as = new cdcm_assoc();
        as->dimse_timeout = p->dimse_timeout > 0 ? p->dimse_timeout : 60;
        as->peer = std::string(p->called_ae) + "@" + p->host + ":" + std::to_string(p->port);
        int acse = p->acse_timeout > 0 ? p->acse_timeout : 30;
        OFCondition cond = ASC_initializeNetwork(NET_REQUESTOR, 0, acse, &as->net);
        if (cond.bad()) {
            cdcm::status_from_condition(st, cond, "cannot initialise the network");
            destroy(as);
            return nullptr;
        }
        if (p->tls != nullptr) {
            if (p->tls->acceptor) {
                cdcm::status_set(st, CDCM_ERR_INVALID, "a listener's TLS context cannot open associations");
                destroy(as);
                return nullptr;
            }
            as->tls_layer = cdcm::tls_client_layer(p->tls, acse);
            ASC_setTransportLayer(as->net, as->tls_layer, 0);
        } else {
            ASC_setTransportLayer(as->net, cdcm::quickack_transport_layer(), 0);
        }
        if (p->connect_timeout > 0) dcmConnectionTimeout.set(p->connect_timeout);

        T_ASC_Parameters *params = nullptr;
        cond = ASC_createAssociationParameters(&params, p->max_pdu > 0 ? p->max_pdu : ASC_DEFAULTMAXPDU);
        if (cond.bad()) {
            cdcm::status_from_condition(st, cond, "cannot create association parameters");
            destroy(as);
            return nullptr;
        }
        ASC_setAPTitles(params, p->calling_ae, p->called_ae, nullptr);
        if (p->tls != nullptr) ASC_setTransportLayerType(params, OFTrue);
        std::string address = std::string(p->host) + ":" + std::to_string(p->port);
        ASC_setPresentationAddresses(params, "localhost", address.c_str());
        for (int i = 0; i < pc_count; i++) {
            const cdcm_pc_proposal &pc = pcs[i];
            cond = ASC_addPresentationContext(params, static_cast<T_ASC_PresentationContextID>(2 * i + 1),
                                              pc.abstract_syntax, const_cast<const char **>(pc.transfer_syntaxes),
                                              pc.transfer_syntax_count, to_asc_role(pc.role));
            if (cond.bad()) {
                cdcm::status_from_condition(st, cond, std::string("cannot propose ") + pc.abstract_syntax);
                ASC_destroyAssociationParameters(&params);
                destroy(as);
                return nullptr;
            }
        }
        cond = ASC_requestAssociation(as->net, params, &as->assoc);
        if (cond.bad()) {
            if (cond == DUL_ASSOCIATIONREJECTED) {
                T_ASC_RejectParameters rej;
                ASC_getRejectParameters(params, &rej);
                st->reject_result = rej.result;
                st->reject_source = rej.source;
                st->reject_reason = rej.reason & 0xFF;
                cdcm::status_set(st, CDCM_ERR_REJECTED,
                                 std::string("association rejected by ") + as->peer + ": " + reject_reason_text(rej) +
                                     (rej.result == ASC_RESULT_REJECTEDTRANSIENT ? " (transient, try again later)" : ""));
            } else {
                cdcm::status_from_condition(st, cond, std::string("cannot associate with ") + as->peer +
                                                          (p->tls != nullptr ? " over DICOM TLS" : ""));
                st->kind = CDCM_ERR_NETWORK;
            }
            if (as->assoc == nullptr) ASC_destroyAssociationParameters(&params);
            destroy(as);
            return nullptr;
        }
        if (ASC_countAcceptedPresentationContexts(params) == 0) {
            cdcm::status_set(st, CDCM_ERR_NO_CONTEXT,
                             as->peer + " accepted the association but none of the proposed presentation contexts");
            ASC_abortAssociation(as->assoc);
            destroy(as);
            return nullptr;
        }
        cdcm::arm_transport_guard(as->assoc);
        return as;
    } catch (...) {
        cdcm::status_from_exception(st, "cdcm_assoc_open");
        destroy(as);
        return nullptr;
    }
}

extern "C" void cdcm_assoc_release(cdcm_assoc *as) {
    if (as == nullptr) return;
    try {
        if (as->assoc != nullptr && ASC_releaseAssociation(as->assoc).bad()) ASC_abortAssociation(as->assoc);
    } catch (...) {
    }
    destroy(as);
}

extern "C" void cdcm_assoc_abort(cdcm_assoc *as) {
    if (as == nullptr) return;
    try {
        if (as->assoc != nullptr) ASC_abortAssociation(as->assoc);
    } catch (...) {
    }
    destroy(as);
}

extern "C" int cdcm_assoc_peer_certificate(cdcm_assoc *as, char sha256[65], char *subject, size_t subject_len) {
    if (sha256 != nullptr) sha256[0] = '\0';
    if (subject != nullptr && subject_len > 0) subject[0] = '\0';
    if (as == nullptr || as->assoc == nullptr) return 0;
    bool secure = false;
    cdcm::PeerIdentity identity;
    if (!cdcm::association_peer(as->assoc, secure, identity) || !secure) return 0;
    if (sha256 != nullptr) cdcm::copy_string(sha256, 65, identity.sha256.c_str());
    if (subject != nullptr) cdcm::copy_string(subject, subject_len, identity.subject.c_str());
    return 1;
}

extern "C" int cdcm_assoc_has_context(cdcm_assoc *as, const char *abstract_syntax) {
    if (as == nullptr || as->assoc == nullptr || abstract_syntax == nullptr) return 0;
    return ASC_findAcceptedPresentationContextID(as->assoc, abstract_syntax) != 0 ? 1 : 0;
}

extern "C" int cdcm_assoc_echo(cdcm_assoc *as, cdcm_status *st) {
    cdcm::status_clear(st);
    if (as == nullptr || as->assoc == nullptr) {
        cdcm::status_set(st, CDCM_ERR_INVALID, "no association");
        return -1;
    }
    try {
        if (cdcm::find_context(as, UID_VerificationSOPClass, st) == 0) return -1;
        DIC_US status = 0;
        DcmDataset *detail = nullptr;
        OFCondition cond = DIMSE_echoUser(as->assoc, as->next_message_id(), DIMSE_NONBLOCKING, as->dimse_timeout,
                                          &status, &detail);
        delete detail;
        if (cond.bad()) {
            cdcm::status_from_dimse(st, as, cond, "C-ECHO");
            return -1;
        }
        st->has_dimse_status = 1;
        st->dimse_status = status;
        return 0;
    } catch (...) {
        cdcm::status_from_exception(st, "cdcm_assoc_echo");
        return -1;
    }
}

extern "C" int cdcm_assoc_store_file(cdcm_assoc *as, const char *path, uint16_t priority,
                                     const char *move_originator_ae, uint16_t move_originator_msg_id,
                                     cdcm_status *st) {
    cdcm::status_clear(st);
    if (as == nullptr || as->assoc == nullptr || path == nullptr) {
        cdcm::status_set(st, CDCM_ERR_INVALID, "no association or file");
        return -1;
    }
    try {
        return cdcm::send_file(as->assoc, as->peer, path, as->next_message_id(), static_cast<T_DIMSE_Priority>(priority),
                               move_originator_ae, move_originator_msg_id, as->dimse_timeout, st);
    } catch (...) {
        cdcm::status_from_exception(st, "cdcm_assoc_store_file");
        return -1;
    }
}
