using System.Collections.Immutable;
using ContactGrains.Contracts;
using Microsoft.Extensions.Logging;

namespace ContactGrains.Grains.Customers;

[GenerateSerializer, Alias("cg.CustomerState")]
public sealed class CustomerState
{
    [Id(0)] public string? DisplayName { get; set; }
    [Id(1)] public string? Language { get; set; }
    [Id(2)] public CustomerTier Tier { get; set; }
    /// <summary>Every open conversation and the newest closed ones (<see cref="CustomerGrain.ContactsKept"/> in all, if that many are closed).</summary>
    [Id(3)] public List<ContactRecord> Contacts { get; set; } = [];

    /// <summary>Said in a conversation that they prefer humans, and when.</summary>
    [Id(4)] public DateTimeOffset? PrefersHumansSince { get; set; }

    /// <summary>Intents the bot answered lately (the newest <see cref="CustomerGrain.IntentsKept"/>), for repeat contacts.</summary>
    [Id(5)] public List<IntentContact> Intents { get; set; } = [];

    /// <summary>Closed conversations no longer listed in <see cref="Contacts"/>: the row stays short for a customer of years.</summary>
    [Id(6)] public int ContactsForgotten { get; set; }
}

/// <summary>A customer on one channel: profile and the history of their conversations.</summary>
// Called when a conversation starts or ends (and when the customer says they prefer humans), never
// per message: after a start or an end the activation is let go a few seconds later (ReleaseSoon), so an
// open conversation does not keep its customer in memory. A read alone (GetProfile) keeps it 2 minutes
// (Orleans' default, 15).
[CollectionAgeLimit(Minutes = 2)]
public sealed class CustomerGrain(
    [PersistentState("customer", StorageNames.Default)] IPersistentState<CustomerState> state,
    ILogger<CustomerGrain> logger)
    : Grain, ICustomerGrain
{
    private CustomerState State => state.State;
    private IGrainTimer? _release;

    public Task<CustomerProfile> GetProfile() => Task.FromResult(Profile());

    public async Task<CustomerProfile> ConversationStarted(string conversationId, CustomerIdentity identity, DateTimeOffset at)
    {
        await state.CommitAsync(this, logger, () =>
        {
            if (!string.IsNullOrWhiteSpace(identity.DisplayName))
            {
                State.DisplayName = identity.DisplayName;
            }

            if (!string.IsNullOrWhiteSpace(identity.Language))
            {
                State.Language = identity.Language;
            }

            if (identity.Tier is { } tier)
            {
                State.Tier = tier;
            }

            // Idempotent: a retried start must not list the conversation twice.
            if (!State.Contacts.Exists(c => c.ConversationId == conversationId))
            {
                State.Contacts.Add(new ContactRecord(conversationId, at, null, null));
                ForgetOldestClosedContacts();
            }
        });
        ReleaseSoon();
        return Profile();
    }

    public async Task ConversationClosed(string conversationId, string reasonCode, DateTimeOffset at, ImmutableArray<IntentContact> intentsAnswered)
    {
        var index = State.Contacts.FindIndex(c => c.ConversationId == conversationId);
        var closes = index >= 0 && State.Contacts[index].ClosedAt is null;

        // A retried close (or a conversation that closed again) brings intents already recorded.
        var newIntents = intentsAnswered.IsDefault
            ? []
            : intentsAnswered.Where(i => !State.Intents.Exists(known => known.ConversationId == i.ConversationId && known.IntentId == i.IntentId)).ToList();
        if (closes || newIntents.Count > 0)
        {
            await state.CommitAsync(this, logger, () =>
            {
                if (closes)
                {
                    State.Contacts[index] = State.Contacts[index] with { ClosedAt = at, Outcome = reasonCode };
                }

                State.Intents.AddRange(newIntents);
                if (State.Intents.Count > IntentsKept)
                {
                    State.Intents.RemoveRange(0, State.Intents.Count - IntentsKept);
                }
            });
        }

        ReleaseSoon();
    }

    public async Task PrefersHumans(DateTimeOffset at)
    {
        if (State.PrefersHumansSince is null)
        {
            await state.CommitAsync(this, logger, () => State.PrefersHumansSince = at);
        }
    }

    /// <summary>How long the activation stays after its last start or end.</summary>
    public static readonly TimeSpan Linger = TimeSpan.FromSeconds(5);

    // Not DeactivateOnIdle right away: calls queued behind this one would be forwarded to a new
    // activation that let itself go after one call too, and Orleans refuses a call forwarded twice.
    // A customer's burst of conversations (a batch of threads, an integration's retries) shares one
    // activation; each call pushes the release back.
    private void ReleaseSoon()
    {
        if (_release is null)
        {
            _release = this.RegisterGrainTimer(
                () =>
                {
                    DeactivateOnIdle();
                    return Task.CompletedTask;
                },
                new GrainTimerCreationOptions(Linger, Timeout.InfiniteTimeSpan));
        }
        else
        {
            _release.Change(Linger, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Answered intents kept per customer: enough for any repeat-contact window of days.</summary>
    public const int IntentsKept = 50;

    /// <summary>Contacts listed per customer; older closed ones are only counted.</summary>
    public const int ContactsKept = 100;

    // Open conversations stay listed whatever their number: their close must find them, and a new
    // conversation asks them for their intents.
    private void ForgetOldestClosedContacts()
    {
        for (var i = 0; State.Contacts.Count > ContactsKept && i < State.Contacts.Count;)
        {
            if (State.Contacts[i].ClosedAt is null)
            {
                i++;
                continue;
            }

            State.Contacts.RemoveAt(i);
            State.ContactsForgotten++;
        }
    }

    private CustomerProfile Profile() =>
        new(this.GetPrimaryKeyString(), State.DisplayName, State.Language, State.Tier, [.. State.Contacts], State.PrefersHumansSince is not null, [.. State.Intents],
            State.ContactsForgotten);
}
