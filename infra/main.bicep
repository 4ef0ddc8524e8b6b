// aoai-simulator on Azure Functions (Flex Consumption), with the Storage account it shares
// between instances (rate-limit counters, live configuration and event codes in Tables;
// recordings and stored responses in Blob containers) and Application Insights. Keyless: the app
// reaches Storage, Application Insights and its secrets (Key Vault) with a user-assigned
// identity made before it, so its roles exist before the first deploy; the account allows no
// shared keys. `azd up` provisions and deploys.
// Kept to plain resources (no registry modules) so it reads, and is checked by
// tests/infra.test.ts, as text.

targetScope = 'resourceGroup'

@minLength(1)
@maxLength(40)
@description('azd environment name: names and tags the resources.')
param environmentName string

// Regions that offer Flex Consumption (az functionapp list-flexconsumption-locations).
@allowed([
  'australiaeast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@description('Region for every resource (one that offers Flex Consumption).')
param location string

@secure()
@description('The key clients send as api-key (or Bearer). Every instance must share it.')
param simulatorApiKey string

@allowed(['generate', 'record', 'replay'])
param simulatorMode string = 'generate'

@description('Record mode: the real Azure OpenAI endpoint(s), comma separated, each with optional ;weight=N;key=...')
param azureOpenAiEndpoint string = ''

@secure()
@description('Record mode: the upstream key(s); empty to use the app\'s managed identity (Entra ID).')
param azureOpenAiKey string = ''

@allowed(['22', '24'])
@description('Node.js version (Flex Consumption offers 22 and 24 for new apps).')
param nodeVersion string = '22'

@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

// Most of a simulated answer is waiting on timers (TTFT, token gaps): one instance serves many
// requests at once with little CPU each, so it takes far more than the default 16 per instance
// before the platform adds another (the bench measured ~3 ms of CPU per paced stream).
@minValue(1)
@maxValue(1000)
@description('HTTP requests one instance serves at once before another is added.')
param perInstanceConcurrency int = 200

@minValue(0)
@maxValue(20)
@description('Instances kept warm for HTTP (0: scale to zero; each always-ready instance is billed).')
param alwaysReadyInstances int = 0

@description('Any simulator setting by name, e.g. {"LATENCY_OPENAI_CHAT_COMPLETIONS_MEAN": "10"}; wins over the defaults below.')
param extraAppSettings object = {}

var token = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var tags = { 'azd-env-name': environmentName }
var deploymentContainerName = 'app-package'
var recordingsContainerName = 'recordings'
var responsesContainerName = 'responses'
var tableNames = ['ratelimits', 'simulatorconfig', 'events', 'eventusage']

// The app's identity, made before the app so its role assignments exist when it first starts.
resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${token}'
  location: location
  tags: tags
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'st${token}'
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    supportsHttpsTrafficOnly: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
}

resource recordingsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: recordingsContainerName
}

resource responsesContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: responsesContainerName
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [for name in tableNames: {
  parent: tableService
  name: name
}]

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${token}'
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${token}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    // Telemetry only from Entra ID-authenticated senders (the app's identity).
    DisableLocalAuth: true
  }
}

// The secrets the app needs, as Key Vault references resolved with its identity.
resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: 'kv-${token}'
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
  }
}

resource apiKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'simulator-api-key'
  properties: { value: simulatorApiKey }
}

resource upstreamKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(azureOpenAiKey)) {
  parent: vault
  name: 'azure-openai-key'
  properties: { value: azureOpenAiKey }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${token}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

// A secret as an app setting: a Key Vault reference, resolved by the platform with the identity.
var apiKeyReference = '@Microsoft.KeyVault(SecretUri=${apiKeySecret.properties.secretUri})'
var upstreamKeyReference = empty(azureOpenAiKey) ? '' : '@Microsoft.KeyVault(SecretUri=${upstreamKeySecret.properties.secretUri})'

// Every variable the simulator reads (tests/infra.test.ts checks this list against the code).
// An empty value means the simulator's default.
var simulatorSettings = {
  SIMULATOR_MODE: simulatorMode
  SIMULATOR_API_KEY: apiKeyReference
  SIMULATOR_REGION: location
  SIMULATOR_LATENCY: 'on'
  SIMULATOR_FAULTS: ''
  OPENAI_DEPLOYMENT_CONFIG_PATH: ''
  ALLOW_UNDEFINED_OPENAI_DEPLOYMENTS: 'true'
  COMPLETION_TOKENS_MEAN: ''
  COMPLETION_TOKENS_STD_DEV: ''
  MAX_REQUEST_BODY_BYTES: ''
  RATE_LIMIT_COST_MODEL: ''
  RATE_LIMIT_DEFAULT_MAX_TOKENS: ''
  RATE_LIMIT_ONE_SECOND_WINDOW: ''
  RATE_LIMIT_STORE_FAILURE: ''
  RATE_LIMIT_STORE_TIMEOUT_MS: ''
  RATE_LIMIT_TABLE: tableNames[0]
  UNDEFINED_DEPLOYMENT_TOKENS_PER_MINUTE: ''
  UNDEFINED_DEPLOYMENT_REQUESTS_PER_MINUTE: ''
  AZURE_OPENAI_ENDPOINT: azureOpenAiEndpoint
  AZURE_OPENAI_KEY: upstreamKeyReference
  FORWARD_TIMEOUT_SECONDS: ''
  RECORDING_DIR: ''
  RECORDING_CONTAINER: recordingsContainerName
  RESPONSES_CONTAINER: responsesContainerName
  ENTRA_AUTH: ''
  ENTRA_TENANT_ID: ''
  ENTRA_JWKS_URL: ''
  ENTRA_ISSUER: ''
  ENTRA_AUDIENCES: ''
  ENTRA_ALLOWED_PRINCIPALS: ''
  RECORDING_AUTOSAVE: 'true'
  RECORDING_REFRESH_SECONDS: ''
  RECORDING_TIME_FACTOR: ''
  RECORDING_MATCH: ''
  RECORDING_IGNORE_FIELDS: ''
  RECORDING_REPLAY_IN_RECORD_MODE: ''
  LATENCY_OPENAI_CHAT_COMPLETIONS_MEAN: ''
  LATENCY_OPENAI_CHAT_COMPLETIONS_STD_DEV: ''
  LATENCY_OPENAI_CHAT_COMPLETIONS_TTFT_MEAN: ''
  LATENCY_OPENAI_CHAT_COMPLETIONS_TTFT_STD_DEV: ''
  LATENCY_OPENAI_COMPLETIONS_MEAN: ''
  LATENCY_OPENAI_COMPLETIONS_STD_DEV: ''
  LATENCY_OPENAI_COMPLETIONS_TTFT_MEAN: ''
  LATENCY_OPENAI_COMPLETIONS_TTFT_STD_DEV: ''
  LATENCY_OPENAI_EMBEDDINGS_MEAN: ''
  LATENCY_OPENAI_EMBEDDINGS_STD_DEV: ''
  LATENCY_OPENAI_TRANSLATIONS_MEAN: ''
  LATENCY_OPENAI_TRANSLATIONS_STD_DEV: ''
  LATENCY_OPENAI_TRANSCRIPTIONS_MEAN: ''
  LATENCY_OPENAI_TRANSCRIPTIONS_STD_DEV: ''
  LATENCY_OPENAI_IMAGES_MEAN: ''
  LATENCY_OPENAI_IMAGES_STD_DEV: ''
  LATENCY_SLOWDOWN_CONCURRENCY: ''
  LATENCY_SLOWDOWN_FACTOR: ''
  CONFIG_TABLE: tableNames[1]
  CONFIG_REFRESH_SECONDS: ''
  EVENTS_TABLE: tableNames[2]
  EVENTS_USAGE_TABLE: tableNames[3]
  EVENTS_REFRESH_SECONDS: ''
  EVENT_MAX_TOKENS: ''
  // Record mode's backends from the workshop proxy's Table (set BACKENDS_TABLE to use it).
  BACKENDS_TABLE: ''
  BACKENDS_PARTITION: ''
  BACKENDS_REFRESH_SECONDS: ''
  EXTENSION_PATH: ''
  LOG_LEVEL: 'info'
  LOG_FORMAT: 'json'
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  OTEL_SERVICE_NAME: 'aoai-api-simulator'
  OTEL_METRIC_EXPORT_INTERVAL: '10000'
}

// The Functions host: its storage by identity (the simulator's stores connect the same way),
// Application Insights by identity, and the health function owning "/".
var hostSettings = {
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.properties.clientId
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'
  AzureWebJobsDisableHomepage: 'true'
}

var appSettings = union(hostSettings, simulatorSettings, extraAppSettings)

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: 'func-${token}'
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: { type: 'UserAssigned', userAssignedIdentities: { '${identity.id}': {} } }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identity.id
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identity.id }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        triggers: { http: { perInstanceConcurrency: perInstanceConcurrency } }
        alwaysReady: alwaysReadyInstances > 0 ? [{ name: 'http', instanceCount: alwaysReadyInstances }] : []
      }
      runtime: {
        name: 'node'
        version: nodeVersion
      }
    }
    siteConfig: {
      appSettings: [for setting in items(appSettings): { name: setting.key, value: setting.value }]
    }
  }
  dependsOn: [deploymentContainer, recordingsContainer, responsesContainer, tables, roles, telemetryPublisher, secretsReader]
}

// The identity's data roles: Blob Data Owner (the deployment package, recordings, stored
// responses), Table Data Contributor (counters, configuration, events), Queue Data Contributor
// (the host's own use of its storage).
var storageRoles = [
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
]

resource roles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in storageRoles: {
  scope: storage
  name: guid(storage.id, identity.id, role)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}]

// Monitoring Metrics Publisher: telemetry with local auth off.
var metricsPublisherRole = '3913510d-42f4-4e42-8a64-420c390055eb'

resource telemetryPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: appInsights
  name: guid(appInsights.id, identity.id, metricsPublisherRole)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', metricsPublisherRole)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Key Vault Secrets User: the platform resolves the app's Key Vault references.
var secretsUserRole = '4633458b-17de-408a-b874-0445c86b69e6'

resource secretsReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: vault
  name: guid(vault.id, identity.id, secretsUserRole)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsUserRole)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

@description('Point clients here: AzureOpenAI({ endpoint: SIMULATOR_ENDPOINT, apiKey: <SIMULATOR_API_KEY> }).')
output SIMULATOR_ENDPOINT string = 'https://${app.properties.defaultHostName}'

@description('Upload recordings to the "recordings" container of this account (Storage Explorer).')
output AZURE_STORAGE_ACCOUNT_NAME string = storage.name

output AZURE_FUNCTION_APP_NAME string = app.name
output APPLICATIONINSIGHTS_NAME string = appInsights.name
