import type { Api } from 'grammy'
import type { StreamBotApi } from './types.ts'

/**
 * The streaming editor's Bot API, backed by a grammY `Api` (`bot.api`). grammY's GrammyError
 * carries `error_code`, `description` and `parameters.retry_after`, which is what the editor reads.
 */
export function streamApiFromGrammy (api: Api): StreamBotApi {
  return {
    sendMessage: async (params) => await api.raw.sendMessage(params),
    editMessageText: async (params) => await api.raw.editMessageText(params),
    deleteMessage: async (params) => await api.raw.deleteMessage(params),
    sendMessageDraft: async (params) => await api.raw.sendMessageDraft(params)
  }
}
