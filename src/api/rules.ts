import type { App, AppDeps } from './app.ts'

export const ruleRoutes = (deps: AppDeps) => async (app: App) => {
  app.get('/rules', async () => {
    const { rules, failures, runtimeErrors } = deps.rules()
    return { rules, failures, runtimeErrors }
  })
}
