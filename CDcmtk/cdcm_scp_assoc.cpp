/* One inbound association on its own thread: negotiate, then receive and dispatch DIMSE commands
 * until the peer releases or aborts, the idle timeout passes, or the server stops. */
#include "cdcm_scp_negotiate.h"

#include <cstring>

namespace {

enum EndHow { kReleased = 0, kAborted = 1, kError = 2, kStopped = 3 };

}  // namespace

namespace cdcm {

void ScpWorker::run() {
    try {
        serve();
    } catch (...) {
        // Out of memory or a DCMTK exception: drop this association, keep the server.
        if (assoc != nullptr) {
            ASC_abortAssociation(assoc);
            ASC_dropSCPAssociation(assoc);
            ASC_destroyAssociation(&assoc);
        }
    }
}

void ScpWorker::serve() {
    const cdcm_scp_handlers &h = scp->handlers;
    try {
        calling_ae = assoc->params->DULparams.callingAPTitle;
        called_ae = assoc->params->DULparams.calledAPTitle;
        peer_host = assoc->params->DULparams.callingPresentationAddress;
        // callingPresentationAddress is "host" or "host:port"; keep the host.
        if (peer_host.find(':') != std::string::npos && peer_host.find(':') == peer_host.rfind(':'))
            peer_host = peer_host.substr(0, peer_host.find(':'));
    } catch (...) {
    }

    NegotiationResult n{false, "internal error during negotiation"};
    try {
        n = negotiate(this);
    } catch (...) {
        n = NegotiationResult{false, "internal error during negotiation"};
    }
    if (!n.accepted) {
        cdcm_assoc_info i = info();
        if (h.on_association_end) h.on_association_end(h.ctx, &i, kError, ("association refused: " + n.reason).c_str());
        ASC_dropAssociation(assoc);
        ASC_destroyAssociation(&assoc);
        return;
    }

    int how = kError;
    std::string detail;
    int idle_seconds = 0;
    for (;;) {
        if (scp_grace_expired(scp) || (scp_stopping(scp) && idle_seconds >= 1)) {
            how = kStopped;
            detail = "gateway is stopping";
            ASC_abortAssociation(assoc);
            break;
        }
        T_DIMSE_Message msg;
        T_ASC_PresentationContextID pcid = 0;
        DcmDataset *status_detail = nullptr;
        OFCondition cond = EC_Normal;
        try {
            // Wait for the first byte of a command in 1 s steps (to notice a stop); once one has
            // begun, the whole PDU gets the DIMSE timeout (the transport hands DCMTK whole PDUs).
            if (!ASC_dataWaiting(assoc, 1)) {
                cond = DIMSE_NODATAAVAILABLE;
            } else {
                cond = DIMSE_receiveCommand(assoc, DIMSE_NONBLOCKING, scp->dimse_timeout, &pcid, &msg, &status_detail);
            }
        } catch (...) {
            cond = DIMSE_RECEIVEFAILED;
        }
        delete status_detail;
        if (cond == DIMSE_NODATAAVAILABLE) {
            if (++idle_seconds >= scp->dimse_timeout) {
                how = kError;
                detail = "idle for " + std::to_string(scp->dimse_timeout) + " s";
                ASC_abortAssociation(assoc);
                break;
            }
            continue;
        }
        if (cond == DUL_PEERREQUESTEDRELEASE) {
            how = kReleased;
            ASC_acknowledgeRelease(assoc);
            break;
        }
        if (cond == DUL_PEERABORTEDASSOCIATION) {
            how = kAborted;
            detail = "peer aborted the association";
            break;
        }
        if (cond.bad()) {
            how = kError;
            detail = std::string("receiving a command failed: ") + cond.text();
            ASC_abortAssociation(assoc);
            break;
        }
        idle_seconds = 0;
        try {
            switch (msg.CommandField) {
            case DIMSE_C_ECHO_RQ: {
                cdcm_assoc_info i = info();
                Uint16 status = h.on_echo ? h.on_echo(h.ctx, &i) : STATUS_Success;
                cond = DIMSE_sendEchoResponse(assoc, pcid, &msg.msg.CEchoRQ, status, nullptr);
                break;
            }
            case DIMSE_C_STORE_RQ:
                cond = serve_store(this, msg.msg.CStoreRQ, pcid);
                break;
            case DIMSE_C_FIND_RQ:
                cond = serve_find(this, msg.msg.CFindRQ, pcid);
                break;
            case DIMSE_C_MOVE_RQ:
                cond = serve_move(this, msg.msg.CMoveRQ, pcid);
                break;
            case DIMSE_C_GET_RQ:
                cond = serve_get(this, msg.msg.CGetRQ, pcid);
                break;
            case DIMSE_C_CANCEL_RQ:
                cond = EC_Normal;  // a late cancel for a finished operation
                break;
            default:
                cond = makeDcmnetCondition(DIMSEC_BADCOMMANDTYPE, OF_error, "unsupported DIMSE command");
                break;
            }
        } catch (...) {
            cond = makeDcmnetCondition(DIMSEC_BADDATA, OF_error, "internal error while serving a command");
        }
        if (cond.bad()) {
            how = cond == DUL_PEERABORTEDASSOCIATION ? kAborted : kError;
            detail = cond.text();
            ASC_abortAssociation(assoc);
            break;
        }
    }
    cdcm_assoc_info i = info();
    if (h.on_association_end) h.on_association_end(h.ctx, &i, how, detail.c_str());
    ASC_dropSCPAssociation(assoc);
    ASC_destroyAssociation(&assoc);
}

}  // namespace cdcm
