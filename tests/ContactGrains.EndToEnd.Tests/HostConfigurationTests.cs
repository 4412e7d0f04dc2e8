using ContactGrains.Bot;
using ContactGrains.Silo.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ContactGrains.EndToEnd.Tests;

public sealed class HostConfigurationTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("contactgrains-kb-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static WebApplicationBuilder Builder(string knowledgeBasePath)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ContactGrains:Bot:KnowledgeBasePath"] = knowledgeBasePath,
        });
        return builder;
    }

    [Fact]
    public async Task Knowledge_base_from_configuration_replaces_the_sample()
    {
        var path = Path.Combine(_directory, "garden.json");
        await File.WriteAllTextAsync(path, """
            {
              "name": "Garden centre",
              "threshold": 0.4,
              "languages": ["en"],
              "fallback": { "en": "Sorry, could you rephrase?" },
              "intents": [
                {
                  "id": "watering_advice",
                  "skill": "plants",
                  "examples": { "en": ["How often should I water my tomatoes?", "watering schedule for plants"] },
                  "answers": { "en": "Water tomatoes deeply twice a week." }
                },
                {
                  "id": "store_hours",
                  "skill": "store",
                  "examples": { "en": ["When is the garden centre open?", "opening hours"] },
                  "answers": { "en": "We are open 9am to 6pm every day." }
                }
              ]
            }
            """);
        var builder = Builder(path);

        Assert.True(await builder.TryAddContactGrainsAsync(TextWriter.Null));
        await using var app = builder.Build();
        var reply = await app.Services.GetRequiredService<IBot>().ReplyAsync(new BotRequest("how often do I water tomatoes", "en"));

        Assert.Equal("watering_advice", reply.IntentId);
        Assert.Equal("Water tomatoes deeply twice a week.", reply.Text);
    }

    [Fact]
    public async Task Missing_knowledge_base_stops_the_silo_with_one_clear_line()
    {
        var path = Path.Combine(_directory, "missing.json");
        var errors = new StringWriter();

        Assert.False(await Builder(path).TryAddContactGrainsAsync(errors));

        var message = errors.ToString().Trim();
        Assert.Single(message.Split('\n'));
        Assert.StartsWith("ContactGrains cannot start: the bot's knowledge base is unusable.", message, StringComparison.Ordinal);
        Assert.Contains(path, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_storage_provider_stops_the_silo_with_one_clear_line()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ContactGrains:Storage:Provider"] = "Postgres" });
        var errors = new StringWriter();

        Assert.False(await builder.TryAddContactGrainsAsync(errors));

        var message = errors.ToString().Trim();
        Assert.Single(message.Split('\n'));
        Assert.Contains("Postgres", message, StringComparison.Ordinal);
        Assert.Contains("Memory or PostgreSql", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostgreSql_profile_without_a_connection_string_stops_the_silo_saying_so()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ContactGrains:Storage:Provider"] = "PostgreSql",
            ["ContactGrains:Auth:DevelopmentCredentials"] = "true",
        });
        var errors = new StringWriter();

        Assert.False(await builder.TryAddContactGrainsAsync(errors));

        Assert.Equal(
            "ContactGrains cannot start: No PostgreSQL connection string: set ContactGrains:Storage:ConnectionString (e.g. \"Host=127.0.0.1;Port=5432;Database=contactgrains;Username=contactgrains;Password=…\").",
            errors.ToString().Trim());
    }

    public static TheoryData<string, Dictionary<string, string?>, string> BadCredentials => new()
    {
        {
            "the PostgreSQL profile without credentials",
            new() { ["ContactGrains:Storage:Provider"] = "PostgreSql", ["ContactGrains:Storage:ConnectionString"] = "Host=127.0.0.1;Port=1" },
            "ContactGrains cannot start: this profile needs credentials: ContactGrains:Auth:Channels (an API key hash per channel adapter; `ContactGrains.Silo key channel NAME` makes one) and ContactGrains:Auth:SigningKey (for agent tokens; `ContactGrains.Silo key signing`). Set ContactGrains:Auth:DevelopmentCredentials=true only for tests on one machine."
        },
        {
            "channel keys but no signing key",
            new() { ["ContactGrains:Auth:Channels:0:Channel"] = "sms", ["ContactGrains:Auth:Channels:0:KeySha256"] = new string('a', 64) },
            "ContactGrains cannot start: this profile needs credentials"
        },
        {
            "a key given in clear instead of its hash",
            new() { ["ContactGrains:Auth:Channels:0:Channel"] = "sms", ["ContactGrains:Auth:Channels:0:KeySha256"] = "cgk_secret" },
            "ContactGrains cannot start: ContactGrains:Auth:Channels: the key of channel 'sms' must be given as its SHA-256 in hex (64 characters)"
        },
        {
            "one key listed for two channels",
            new()
            {
                ["ContactGrains:Auth:Channels:0:Channel"] = "sms", ["ContactGrains:Auth:Channels:0:KeySha256"] = new string('a', 64),
                ["ContactGrains:Auth:Channels:1:Channel"] = "whatsapp", ["ContactGrains:Auth:Channels:1:KeySha256"] = new string('A', 64),
                ["ContactGrains:Auth:SigningKey"] = Convert.ToBase64String(new byte[32]),
            },
            "ContactGrains cannot start: ContactGrains:Auth:Channels lists one key twice (for 'sms' and 'whatsapp')"
        },
        {
            "a bad channel name",
            new() { ["ContactGrains:Auth:Channels:0:Channel"] = "Web Chat", ["ContactGrains:Auth:Channels:0:KeySha256"] = new string('a', 64) },
            "ContactGrains cannot start: ContactGrains:Auth:Channels has a key for channel 'Web Chat': a channel is 1 to 32 characters from a-z, 0-9, '-' and '_'."
        },
        {
            "a short signing key",
            new() { ["ContactGrains:Auth:SigningKey"] = Convert.ToBase64String(new byte[16]) },
            "ContactGrains cannot start: ContactGrains:Auth:SigningKey is 16 bytes; it needs at least 32"
        },
        {
            "a directory entry with a skill the knowledge base lacks",
            new() { ["ContactGrains:AgentDirectory:ann:DisplayName"] = "Ann", ["ContactGrains:AgentDirectory:ann:Skills:astrology"] = "3", ["ContactGrains:AgentDirectory:ann:Languages:0"] = "en" },
            "ContactGrains cannot start: ContactGrains:AgentDirectory:ann: profile.skills.skill 'astrology'"
        },
        {
            "the published development signing key",
            new() { ["ContactGrains:Auth:SigningKey"] = Convert.ToBase64String(ContactGrains.Client.DevelopmentCredentials.SigningKey) },
            "ContactGrains cannot start: ContactGrains:Auth:SigningKey is the published development key"
        },
    };

    [Theory]
    [MemberData(nameof(BadCredentials))]
    public async Task Missing_or_unusable_credentials_stop_the_silo_saying_so(string what, Dictionary<string, string?> settings, string message)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(settings);
        var errors = new StringWriter();

        Assert.False(await builder.TryAddContactGrainsAsync(errors), what);

        Assert.StartsWith(message, errors.ToString().Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_knowledge_base_json_stops_the_silo_naming_the_file()
    {
        var path = Path.Combine(_directory, "broken.json");
        await File.WriteAllTextAsync(path, "{ \"name\": \"x\", \"intents\": [ ");
        var errors = new StringWriter();

        Assert.False(await Builder(path).TryAddContactGrainsAsync(errors));

        Assert.Contains("broken.json", errors.ToString(), StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> BadOwnershipSettings => new()
    {
        { "ContactGrains:Ownership:AngerThreshold", "2", "ContactGrains cannot start: ContactGrains:Ownership:AngerThreshold is 2; it must be more than 0 and at most 1." },
        { "ContactGrains:Ownership:MaxConsecutiveMisses", "0", "ContactGrains cannot start: ContactGrains:Ownership:MaxConsecutiveMisses is 0; it must be at least 1." },
        { "ContactGrains:Ownership:HumanOnlyTopics:0", "weather", "ContactGrains cannot start: ContactGrains:Ownership:HumanOnlyTopics names 'weather', which the signal detector does not know (known: fraud, dispute, bereavement, hardship, legal, complaint, data-protection)." },
        { "ContactGrains:Ownership:HumanOnlyIntents:0", "horoscope", "ContactGrains cannot start: ContactGrains:Ownership names intent 'horoscope', which is not in the knowledge base." },
        { "ContactGrains:Ownership:TopicSkills:fraud", "astrology", "ContactGrains cannot start: ContactGrains:Ownership:TopicSkills sends 'fraud' to skill 'astrology', which no intent or extra skill defines." },
        { "ContactGrains:Ownership:RepeatContactWindow", "-1.00:00:00", "ContactGrains cannot start: ContactGrains:Ownership:RepeatContactWindow is -1.00:00:00; it cannot be negative." },
        { "ContactGrains:Cluster:CallTimeout", "00:00:00", "ContactGrains cannot start: ContactGrains:Cluster:CallTimeout is 00:00:00; it must be more than zero and at most 5 minutes (default 00:00:10)." },
        { "ContactGrains:Storage:GroupCommit:Loops", "0", "ContactGrains cannot start: ContactGrains:Storage:GroupCommit:Loops must be between 1 and 64 (it is 0): batches in flight at once, each on its own connection." },
        { "ContactGrains:Storage:GroupCommit:MaxBatch", "20000", "ContactGrains cannot start: ContactGrains:Storage:GroupCommit:MaxBatch must be between 1 and 10000 (it is 20000): the most statements in one transaction." },
    };

    [Theory]
    [MemberData(nameof(BadOwnershipSettings))]
    public async Task A_bad_ownership_or_call_setting_stops_the_silo_with_one_sentence_naming_it(string key, string value, string expected)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [key] = value });
        var errors = new StringWriter();

        Assert.False(await builder.TryAddContactGrainsAsync(errors));

        Assert.Equal(expected, errors.ToString().Trim());
    }

    [Fact]
    public async Task Configured_human_only_topics_replace_the_defaults()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ContactGrains:Ownership:HumanOnlyTopics:0"] = "fraud" });

        Assert.True(await builder.TryAddContactGrainsAsync(TextWriter.Null));
        await using var app = builder.Build();

        Assert.Equal(["fraud"], app.Services.GetRequiredService<ContactGrains.Grains.Ownership.OwnershipPolicy>().Options.HumanOnlyTopics);
    }
}
