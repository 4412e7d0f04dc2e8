using ContactGrains.Contracts;
using Microsoft.Extensions.Logging;

namespace ContactGrains.Grains.Customers;

[GenerateSerializer, Alias("cg.CustomerState")]
public sealed class CustomerState
{
    [Id(0)] public string? DisplayName { get; set; }
    [Id(1)] public string? Language { get; set; }
    [Id(2)] public CustomerTier Tier { get; set; }
    [Id(3)] public List<ContactRecord> Contacts { get; set; } = [];
}

/// <summary>A customer on one channel: profile and the history of their conversations.</summary>
public sealed class CustomerGrain(
    [PersistentState("customer", StorageNames.Default)] IPersistentState<CustomerState> state,
    ILogger<CustomerGrain> logger)
    : Grain, ICustomerGrain
{
    private CustomerState State => state.State;

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
            }
        });
        return Profile();
    }

    public async Task ConversationClosed(string conversationId, string reasonCode, DateTimeOffset at)
    {
        var index = State.Contacts.FindIndex(c => c.ConversationId == conversationId);
        if (index < 0 || State.Contacts[index].ClosedAt is not null)
        {
            return;
        }

        await state.CommitAsync(this, logger, () => State.Contacts[index] = State.Contacts[index] with { ClosedAt = at, Outcome = reasonCode });
    }

    private CustomerProfile Profile() =>
        new(this.GetPrimaryKeyString(), State.DisplayName, State.Language, State.Tier, [.. State.Contacts]);
}
