using ContactGrains.Contracts;
using ContactGrains.Grains.Conversations;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Proto = ContactGrains.Protos.V1;

namespace ContactGrains.Silo.Channels;

/// <summary>The one place where channel API messages and domain types are translated.</summary>
internal static class ChannelMapping
{
    public static Proto.TimelineEntry ToProto(TimelineEntry entry)
    {
        var proto = new Proto.TimelineEntry
        {
            ConversationId = entry.ConversationId,
            Sequence = (ulong)entry.Sequence,
            Time = Timestamp.FromDateTimeOffset(entry.Time),
        };

        if (entry.Message is { } message)
        {
            proto.Message = new Proto.ChatMessage
            {
                Sender = (Proto.SenderKind)message.Sender,
                SenderId = message.SenderId ?? "",
                Text = message.Text,
                AdapterMessageId = message.AdapterMessageId ?? "",
                Bot = message.Bot is { } bot
                    ? new Proto.BotAnswer { Intent = bot.IntentId ?? "", Confidence = bot.Confidence, Understood = bot.Understood, Language = bot.Language }
                    : null,
            };
        }
        else if (entry.Status is { } status)
        {
            proto.Status = new Proto.StatusEvent
            {
                Kind = (Proto.StatusKind)status.Kind,
                Detail = status.Detail ?? "",
                QueuePosition = (uint)status.QueuePosition,
                EstimatedWaitSeconds = (uint)status.EstimatedWaitSeconds,
                AgentName = status.AgentName ?? "",
            };
        }

        return proto;
    }

    public static Proto.ConversationView ToProto(ConversationSnapshot snapshot)
    {
        var view = new Proto.ConversationView
        {
            ConversationId = snapshot.ConversationId,
            Channel = snapshot.Channel,
            ExternalThreadId = snapshot.ExternalThreadId,
            CustomerId = snapshot.CustomerKey,
            Status = snapshot.Status switch
            {
                ConversationStatus.Open => Proto.ConversationStatus.Open,
                ConversationStatus.Closed => Proto.ConversationStatus.Closed,
                _ => Proto.ConversationStatus.Unspecified,
            },
            Owner = ToProto(snapshot.Owner),
            LastSequence = (ulong)snapshot.LastSequence,
            StartedAt = Timestamp.FromDateTimeOffset(snapshot.StartedAt),
        };
        view.Ledger.Add(snapshot.Ledger.Select(ToProto));
        return view;
    }

    public static Proto.OwnershipChange ToProto(OwnershipChange change)
    {
        var proto = new Proto.OwnershipChange
        {
            Time = Timestamp.FromDateTimeOffset(change.Time),
            From = ToProto(change.From),
            To = ToProto(change.To),
            ReasonCode = change.ReasonCode,
            Reason = change.Reason,
        };
        proto.ReasonCodes.Add(change.AllReasonCodes);
        if (change.Signals is { } signals)
        {
            proto.Signals.Add(signals);
        }

        return proto;
    }

    public static Proto.Owner ToProto(Owner owner) => new()
    {
        Kind = owner.Kind switch
        {
            OwnerKind.Bot => Proto.OwnerKind.Bot,
            OwnerKind.Queue => Proto.OwnerKind.Queue,
            OwnerKind.Agent => Proto.OwnerKind.Agent,
            _ => Proto.OwnerKind.Nobody,
        },
        Id = owner.Id ?? "",
    };

    public static CustomerIdentity? ToDomain(Proto.CustomerIdentity? customer) =>
        customer is null || string.IsNullOrWhiteSpace(customer.ExternalCustomerId)
            ? null
            : new CustomerIdentity(customer.ExternalCustomerId, CleanName(customer.DisplayName), NullIfEmpty(customer.Language),
                customer.HasTier ? (customer.Tier == Proto.CustomerTier.Vip ? CustomerTier.Vip : CustomerTier.Standard) : null);

    public static Proto.Ack ToAck(string correlationId, InboundResult result)
    {
        var ack = new Proto.Ack
        {
            CorrelationId = correlationId,
            ConversationId = result.ConversationId,
            Sequence = (ulong)result.Sequence,
            Status = result.Outcome switch
            {
                InboundOutcome.Accepted => Proto.AckStatus.Accepted,
                InboundOutcome.Duplicate => Proto.AckStatus.Duplicate,
                _ => Proto.AckStatus.Rejected,
            },
        };
        if (result.Rejection is { } rejection)
        {
            ack.Code = (int)ToStatusCode(rejection.Code);
            ack.Detail = Hosting.ErrorMapping.Bound(rejection.Message);
            ack.RetryAfterMs = RetryAfterMs(rejection);
        }

        return ack;
    }

    public static Proto.Ack Rejected(string correlationId, StatusCode code, string detail) => new()
    {
        CorrelationId = correlationId,
        Status = Proto.AckStatus.Rejected,
        Code = (int)code,
        Detail = Hosting.ErrorMapping.Bound(detail),
    };

    public static StatusCode ToStatusCode(RejectionCode code) => code switch
    {
        RejectionCode.InvalidArgument => StatusCode.InvalidArgument,
        RejectionCode.NotFound => StatusCode.NotFound,
        RejectionCode.Closed => StatusCode.FailedPrecondition,
        RejectionCode.OutOfRange => StatusCode.OutOfRange,
        RejectionCode.FailedPrecondition => StatusCode.FailedPrecondition,
        RejectionCode.PermissionDenied => StatusCode.PermissionDenied,
        RejectionCode.RateLimited => StatusCode.ResourceExhausted,
        _ => StatusCode.Unknown,
    };

    /// <summary>The trailer that carries a retry hint on unary calls: gRPC's own server pushback (gRFC A6).</summary>
    public const string RetryPushbackTrailer = "grpc-retry-pushback-ms";

    public static RpcException ToRpcException(Rejection rejection)
    {
        var status = new Status(ToStatusCode(rejection.Code), Hosting.ErrorMapping.Bound(rejection.Message));
        return rejection.RetryAfter is null
            ? new RpcException(status)
            : new RpcException(status, [new Metadata.Entry(RetryPushbackTrailer, RetryAfterMs(rejection).ToString(System.Globalization.CultureInfo.InvariantCulture))]);
    }

    private static uint RetryAfterMs(Rejection rejection) =>
        rejection.RetryAfter is { } wait ? (uint)Math.Clamp(Math.Ceiling(wait.TotalMilliseconds), 1, uint.MaxValue) : 0;

    /// <summary>A wire sequence as the grains count them; values past long.MaxValue are simply out of range.</summary>
    public static long ToSequence(ulong sequence) => sequence > long.MaxValue ? long.MaxValue : (long)sequence;

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    /// <summary>A name as agents will read it (<see cref="InboundText"/>); none when nothing visible is left.</summary>
    public static string? CleanName(string value) =>
        InboundText.Clean(value) is var name && InboundText.HasVisibleCharacter(name) ? name : null;
}
